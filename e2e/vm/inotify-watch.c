/* A minimal inotify watcher for e2e/vm/folders.spec.ts: prints "event <mask> <name>" per event on the paths given (busybox has no inotifyd applet here). Built static with gcc by the spec. */
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>
int main(int c, char **v) {
  int fd = inotify_init();
  for (int i = 1; i < c; i++) if (inotify_add_watch(fd, v[i], IN_ALL_EVENTS) < 0) { perror(v[i]); return 1; }
  printf("watching\n"); fflush(stdout);
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return 1;
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      printf("event 0x%x %s\n", e->mask, e->len ? e->name : "");
      fflush(stdout);
      p += sizeof *e + e->len;
    }
  }
}
