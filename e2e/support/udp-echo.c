/* A UDP echo server for test images (busybox has no UDP server): replies "echo:" + the datagram. Built static by e2e/vm/ports.spec.ts. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a; memset(&a, 0, sizeof a);
  a.sin_family = AF_INET; a.sin_port = htons(atoi(argv[1]));
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) return 1;
  char b[65536];
  for (;;) {
    struct sockaddr_in p; socklen_t l = sizeof p;
    int n = recvfrom(s, b + 5, sizeof b - 5, 0, (struct sockaddr *)&p, &l);
    if (n < 0) continue;
    memcpy(b, "echo:", 5);
    sendto(s, b, n + 5, 0, (struct sockaddr *)&p, l);
  }
}
