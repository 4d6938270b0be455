/* Syscall-heavy loop for bench/seccomp.py: N x syscall(SYS_getpid) (glibc does not cache it when
 * called through syscall(2)), then N x read(/dev/zero, 1 byte). Prints nanoseconds per call. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);  /* CPU time: immune to preemption by other load */
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    char buf[1];
    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0) { perror("open /dev/zero"); return 1; }
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_getpid);
    long long t1 = now_ns();
    for (long i = 0; i < n; i++) if (read(fd, buf, 1) != 1) { perror("read"); return 1; }
    long long t2 = now_ns();
    for (long i = 0; i < n / 10; i++) syscall(SYS_keyctl, 9999, 0, 0, 0, 0);
    long long t3 = now_ns();
    printf("%.2f %.2f %.2f\n", (double)(t1 - t0) / n, (double)(t2 - t1) / n, (double)(t3 - t2) / (n / 10));
    return 0;
}
