/*
 * sigstamp: the signal-latency app without a language runtime in the way.
 * SIGUSR1 and SIGTERM are blocked and taken with sigwaitinfo(2), as tini
 * takes them, and stamped with clock_gettime(CLOCK_MONOTONIC) at once.
 *
 *   sigstamp fifo PATH      print "ready"; write "USR1 <ns>" / "TERM <ns>" to
 *                           PATH per signal; exit 0 after SIGTERM
 *   sigstamp record N OUT   print "ready"; keep the stamps of N SIGUSR1 (or
 *                           up to SIGTERM) in memory, then write them to OUT
 *
 * Built by the benchmark with the system's cc (static); it is not part of
 * holdfast and not a Go package.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static long long now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (argc == 3 && strcmp(argv[1], "fifo") == 0) {
		int fd = open(argv[2], O_WRONLY);
		if (fd < 0) { perror("sigstamp: open fifo"); return 3; }
		printf("ready\n"); fflush(stdout);
		for (;;) {
			int sig = sigwaitinfo(&set, NULL);
			long long t = now();
			if (sig < 0) continue;
			char buf[64];
			int n = snprintf(buf, sizeof buf, "%s %lld\n", sig == SIGTERM ? "TERM" : "USR1", t);
			if (write(fd, buf, n) != n) { perror("sigstamp: write fifo"); return 3; }
			if (sig == SIGTERM) return 0;
		}
	}
	if (argc == 4 && strcmp(argv[1], "record") == 0) {
		long n = atol(argv[2]), got = 0;
		long long *stamps = calloc(n > 0 ? n : 1, sizeof *stamps);
		printf("ready\n"); fflush(stdout);
		while (got < n) {
			int sig = sigwaitinfo(&set, NULL);
			long long t = now();
			if (sig == SIGTERM) break;
			if (sig == SIGUSR1) stamps[got++] = t;
		}
		FILE *f = fopen(argv[3], "w");
		if (!f) { perror("sigstamp: open out"); return 3; }
		for (long i = 0; i < got; i++) fprintf(f, "%lld\n", stamps[i]);
		fclose(f);
		return 0;
	}
	fprintf(stderr, "usage: sigstamp fifo PATH | sigstamp record N OUT\n");
	return 2;
}
