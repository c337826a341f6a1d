# Turns migrations/NNNN_name.sql files into a C table (src/migrations_gen.c).
BEGIN {
	print "/* Generated from the migrations folder by embed-migrations.awk. */"
	print "#include \"migrate.h\""
	print "const struct migration migrations[] = {"
}
FNR == 1 {
	if (n++ > 0)
		print "\t},"
	base = FILENAME
	sub(/.*\//, "", base)
	sub(/\.sql$/, "", base)
	version = substr(base, 1, index(base, "_") - 1)
	name = substr(base, index(base, "_") + 1)
	printf "\t{\"%s\", \"%s\",\n", version, name
}
{
	line = $0
	gsub(/\\/, "\\\\", line)
	gsub(/"/, "\\\"", line)
	printf "\t\t\"%s\\n\"\n", line
}
END {
	if (n > 0)
		print "\t},"
	print "};"
	print "const size_t nmigrations = sizeof(migrations) / sizeof(migrations[0]);"
}
