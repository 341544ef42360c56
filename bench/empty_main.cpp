// The --version floor for scripts/bench: a program that does nothing, linked (with --no-as-needed, so the
// dynamic loader really maps and relocates them) against the same shared libraries as the tools. A tool's
// `--version` can be no faster than this.
int main() {}
