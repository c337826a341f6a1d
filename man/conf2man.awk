# Writes checkoutd.conf(5): the template's lines, with its line "@KEYS@"
# replaced by the keys of conf/checkoutd.conf.example, so the manual and
# the example cannot disagree. A "[section]" line becomes a subsection, the
# comment lines right above one or more consecutive key lines become their
# description, and each key line its tag with the example's value. Lines
# before the first section (the file's own preamble) are left to the
# template's prose.
#
#   awk -v template=man/checkoutd.conf.5.in -f man/conf2man.awk \
#       conf/checkoutd.conf.example

# Text safe for roff: backslashes escaped, `code` in bold, no line starting
# with a control character.
function roff(s,    out, i) {
	gsub(/\\/, "\\e", s)
	out = ""
	while ((i = index(s, "`")) > 0) {
		out = out substr(s, 1, i - 1)
		s = substr(s, i + 1)
		i = index(s, "`")
		if (i == 0) {
			out = out "`"
			break
		}
		out = out "\\fB" substr(s, 1, i - 1) "\\fR"
		s = substr(s, i + 1)
	}
	out = out s
	if (out ~ /^[.']/)
		out = "\\&" out
	return out
}

function flush(    i) {
	if (nkeys == 0) {
		ntext = 0
		return
	}
	for (i = 1; i <= nkeys; i++)
		print (i == 1 ? ".TP" : ".TQ") "\n" tag[i]
	for (i = 1; i <= ntext; i++)
		print roff(text[i])
	if (ntext == 0)
		print "No description."
	nkeys = 0
	ntext = 0
}

# The template up to "@KEYS@" (and, at the end, the rest of it).
function copy_template(    line) {
	while ((getline line < template) > 0) {
		if (line == "@KEYS@")
			return 1
		print line
	}
	return 0
}

BEGIN {
	section = ""
	nkeys = 0
	ntext = 0
	if (template == "" || !copy_template()) {
		print "conf2man.awk: no line @KEYS@ in the template " \
		    template > "/dev/stderr"
		bad = 1
		exit 1
	}
}

/^\[[a-z0-9_]+\]$/ {
	flush()
	section = substr($0, 2, length($0) - 2)
	print ".SS \"[" section "]\""
	next
}

section == "" { next }

/^#/ {
	# A comment after key lines starts the next key's description.
	if (nkeys > 0)
		flush()
	line = $0
	sub(/^# ?/, "", line)
	text[++ntext] = line
	next
}

/^[a-z0-9_]+ *=/ {
	key = $0
	sub(/ *=.*/, "", key)
	value = $0
	sub(/^[^=]*= */, "", value)
	tag[++nkeys] = "\\fB" key "\\fR =" (value == "" ? "" : " " roff(value))
	next
}

/^[ \t]*$/ {
	flush()
	next
}

{
	printf "conf2man.awk: %s:%d: not a comment, section or key: %s\n",
	    FILENAME, FNR, $0 > "/dev/stderr"
	bad = 1
	exit 1
}

END {
	if (bad)
		exit 1
	flush()
	copy_template()
}
