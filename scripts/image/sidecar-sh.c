// /bin/sh of the XCom sidecar image: busybox's shell, which stops on SIGTERM also as PID 1.
//
// The KubernetesPodOperator runs its sidecar as `sh -c 'trap "exit 0" INT; while true; do sleep 1;
// done;'` and stops it with SIGINT (`kill -2 $(pgrep -u $(id -u) -f 'sh')`) once it has read the
// XCom. The shell is the container's PID 1, and the kernel drops signals that PID 1 has no handler
// for, so the kubelet's SIGTERM (pod deleted) was ignored and the pod sat Terminating for the whole
// grace period. As PID 1 this program runs busybox sh as its child instead, passes SIGINT and
// SIGTERM on to it, reaps orphans, and exits with the shell's status (128 + signal if it was
// killed). Anywhere else (the operator's `kubectl exec /bin/sh`) it simply becomes busybox sh.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUSYBOX "/bin/busybox"

int main(int argc, char **argv) {
  (void)argc;
  argv[0] = "sh"; // busybox picks the applet from argv[0]
  if (getpid() != 1) {
    execv(BUSYBOX, argv);
    perror("sh: exec " BUSYBOX);
    return 127;
  }
  sigset_t handled, previous;
  sigemptyset(&handled);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGCHLD);
  sigprocmask(SIG_BLOCK, &handled, &previous);
  pid_t shell = fork();
  if (shell < 0) {
    perror("sh: fork");
    return 126;
  }
  if (shell == 0) {
    sigprocmask(SIG_SETMASK, &previous, NULL);
    execv(BUSYBOX, argv);
    perror("sh: exec " BUSYBOX);
    _exit(127);
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&handled, &sig) != 0) continue;
    if (sig == SIGINT || sig == SIGTERM) {
      kill(shell, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != shell) continue;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    if (pid < 0 && errno == ECHILD) return 0;
  }
}
