/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput over files given as
 * arguments (a directory: each file in it; none: the directory CORPUS),
 * without libFuzzer: `make check` replays the committed corpus with the
 * ordinary build, under valgrind and under the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "str.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
one(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf data = {0};
	char chunk[4096];
	size_t k;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&data, chunk, k);
	fclose(f);
	if (data.failed) {
		buf_free(&data);
		return -1;
	}
	LLVMFuzzerTestOneInput(
	    (const uint8_t *)(data.data != NULL ? data.data : ""), data.len);
	buf_free(&data);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, files = 0, failed = 0;
	char *corpus[] = {argv[0], CORPUS, NULL};

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		argc = 2;
		argv = corpus;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;
		char path[4096];

		if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
			failed |= one(argv[i]) != 0;
			files++;
			continue;
		}
		d = opendir(argv[i]);
		if (d == NULL) {
			perror(argv[i]);
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
				 e->d_name);
			failed |= one(path) != 0;
			files++;
		}
		closedir(d);
	}
	printf("%s: %d inputs replayed\n", argv[0], files);
	return failed || files == 0;
}
