/*
 * replay_main.c — run a fuzz harness over saved inputs without libFuzzer:
 * first the empty input (libFuzzer's first input too, so a harness that
 * aborts on it fails here and not only minutes into `make fuzz`), then every
 * file named, and every file under every directory named.  Used by
 * `make replay` so the corpora are regression tests in `make check`.
 * Each input is passed in a buffer of exactly its size, so the sanitizers
 * (make asan) see any read past its end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static unsigned long runs;

static int run_file(const char *path, off_t size)
{
	int fd = open(path, O_RDONLY);
	uint8_t *buf;
	size_t got = 0;

	if (fd < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	while (got < (size_t)size) {
		ssize_t n = read(fd, buf + got, (size_t)size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	runs++;
	return 0;
}

static int run_path(const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	int rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? run_file(path, st.st_size) : 0;
	if (!(dir = opendir(path))) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		char sub[4096];
		if (de->d_name[0] == '.')
			continue; /* ., .., and hidden files */
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >=
		    sizeof(sub))
			continue;
		if (run_path(sub) < 0)
			rc = -1;
	}
	closedir(dir);
	return rc;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	/* no bytes at all: ASan flags any read of them */
	uint8_t *none = malloc(0);
	LLVMFuzzerTestOneInput(none ? none : (const uint8_t *)"", 0);
	free(none);
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i]) < 0)
			rc = 1;
	printf("replay: %s: %lu inputs\n", name ? name + 1 : argv[0], runs);
	if (runs == 0) {
		fprintf(stderr, "replay: no inputs found\n");
		rc = 1;
	}
	return rc;
}
