/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the live top view on a terminal: raw mode, keys, redraw
 *
 * Plain ANSI escapes (alternate screen, cursor home, erase to end of line
 * and of screen): every terminal emulator in use has them, and the view
 * needs nothing that would justify a curses library. */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "wp/run.h"
#include "wp/topterm.h"
#include "wp/topview.h"

#define ENTER "\033[?1049h\033[?25l" /* alternate screen, cursor hidden */
#define LEAVE "\033[?25h\033[?1049l"

struct wp_topterm {
    FILE *out;
    int out_fd, in_fd; /* in_fd -1: no keys */
    char *buf;
    size_t cap;
    struct wp_topview top;
};

/* One view per process: what the signal handlers and atexit() restore. */
static volatile sig_atomic_t active;
static int saved_fd = -1;
static int screen_fd = -1;
static struct termios saved, raw;
static bool have_saved;
static struct sigaction old_int, old_term, old_tstp, old_cont, old_winch;
/* Set by SIGWINCH and SIGCONT: the next wp_topterm_keys() asks for a redraw. */
static volatile sig_atomic_t redraw_due;

/* Async-signal-safe: tcsetattr() and write() only. */
static void restore(void)
{
    if (!active)
        return;
    active = 0;
    if (have_saved)
        (void)tcsetattr(saved_fd, TCSAFLUSH, &saved);
    if (screen_fd >= 0)
        (void)!write(screen_fd, LEAVE, sizeof(LEAVE) - 1);
}

/* The runner's handler leaves at once (_exit) on the second signal:
 * restore the terminal before it does. */
static void on_signal(int sig)
{
    if (wp_stop_requested)
        restore();
    struct sigaction *old = sig == SIGINT ? &old_int : &old_term;
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler != NULL)
        old->sa_handler(sig);
    else if (old->sa_handler == SIG_DFL) {
        restore();
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

/* True when this process is in the terminal's foreground: only then may it
 * change the terminal's mode (a background process would get SIGTTOU). */
static bool foreground(int fd)
{
    return fd >= 0 && tcgetpgrp(fd) == getpgrp();
}

/* Ctrl-Z: give the terminal back as it was, stop, and on SIGCONT take it
 * again and ask for a redraw. Async-signal-safe calls only. */
static void on_tstp(int sig)
{
    int saved_errno = errno;
    if (active) {
        if (have_saved && foreground(saved_fd))
            (void)tcsetattr(saved_fd, TCSAFLUSH, &saved);
        if (screen_fd >= 0)
            (void)!write(screen_fd, LEAVE, sizeof(LEAVE) - 1);
    }
    struct sigaction dfl, mine;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, &mine);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig); /* stops here until SIGCONT */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigaction(sig, &mine, NULL);
    if (active) {
        if (have_saved && foreground(saved_fd))
            (void)tcsetattr(saved_fd, TCSANOW, &raw);
        if (screen_fd >= 0)
            (void)!write(screen_fd, ENTER, sizeof(ENTER) - 1);
        redraw_due = 1;
    }
    errno = saved_errno;
}

/* SIGWINCH (a new size) and SIGCONT (after a stop from elsewhere): redraw. */
static void on_redraw(int sig)
{
    (void)sig;
    redraw_due = 1;
}

static bool utf8_locale(void)
{
    const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v == NULL || *v == '\0')
            continue;
        return strstr(v, "UTF-8") != NULL || strstr(v, "utf8") != NULL ||
               strstr(v, "utf-8") != NULL || strstr(v, "UTF8") != NULL;
    }
    return false;
}

bool wp_topterm_wanted(FILE *out, bool format_given)
{
    return !format_given && out != NULL && isatty(fileno(out));
}

struct wp_topterm *wp_topterm_start(FILE *out, const char *iface, int64_t start_ns)
{
    static bool registered;
    if (active)
        return NULL;
    struct wp_topterm *tt = calloc(1, sizeof(*tt));
    if (tt == NULL)
        return NULL;
    tt->cap = 256 * 1024;
    tt->buf = malloc(tt->cap);
    if (tt->buf == NULL) {
        free(tt);
        return NULL;
    }
    tt->out = out;
    tt->out_fd = fileno(out);
    tt->in_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
    wp_topview_init(&tt->top, iface, start_ns, utf8_locale());

    have_saved = false;
    if (tt->in_fd >= 0 && tcgetattr(tt->in_fd, &saved) == 0) {
        raw = saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C works */
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        saved_fd = tt->in_fd;
        have_saved = tcsetattr(tt->in_fd, TCSANOW, &raw) == 0;
    }
    screen_fd = tt->out_fd;
    active = 1;
    if (!registered) {
        atexit(restore);
        registered = true;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = on_tstp;
    sigaction(SIGTSTP, &sa, &old_tstp);
    sa.sa_handler = on_redraw;
    sigaction(SIGCONT, &sa, &old_cont);
    sigaction(SIGWINCH, &sa, &old_winch);
    redraw_due = 0;
    fflush(out);
    (void)!write(tt->out_fd, ENTER, sizeof(ENTER) - 1);
    return tt;
}

void wp_topterm_stop(struct wp_topterm *tt)
{
    if (tt == NULL)
        return;
    fflush(tt->out);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGTSTP, &old_tstp, NULL);
    sigaction(SIGCONT, &old_cont, NULL);
    sigaction(SIGWINCH, &old_winch, NULL);
    restore();
    free(tt->buf);
    free(tt);
}

enum wp_topterm_key wp_topterm_keys(struct wp_topterm *tt)
{
    enum wp_topterm_key k = WP_TK_NONE;
    if (tt == NULL)
        return k;
    if (redraw_due) {
        redraw_due = 0;
        k = WP_TK_REDRAW;
    }
    if (tt->in_fd < 0)
        return k;
    for (;;) {
        struct pollfd pfd = {tt->in_fd, POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN))
            break;
        char c;
        ssize_t n = read(tt->in_fd, &c, 1);
        if (n <= 0)
            break;
        switch (c) {
        case 'q':
        case 'Q':
            return WP_TK_QUIT;
        case 'p':
        case 'P':
            tt->top.paused = !tt->top.paused;
            k = WP_TK_REDRAW;
            break;
        case 's':
        case 'S':
            tt->top.sort = (enum wp_topview_sort)((tt->top.sort + 1) % WP_TOPVIEW_SORT_COUNT);
            k = WP_TK_REDRAW;
            break;
        default:
            break;
        }
    }
    return k;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int wp_topterm_show(struct wp_topterm *tt, const struct wp_report *r, int64_t now_ns, bool sample)
{
    if (sample)
        wp_topview_sample(&tt->top, r, now_ns);
    if (sample && tt->top.paused)
        return 0;
    unsigned rows = 24, cols = 80;
    struct winsize ws;
    if (ioctl(tt->out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        rows = ws.ws_row;
        cols = ws.ws_col;
    }
    int n = wp_topview_render(&tt->top, r, now_ns, rows, cols, tt->buf, tt->cap);
    if (n < 0)
        return -1;
    /* each line: text, erase to its end; then erase below the last */
    size_t need = (size_t)n + rows * 8 + 16;
    char *o = malloc(need);
    if (o == NULL)
        return -1;
    size_t len = 0;
    memcpy(o, "\033[H", 3);
    len = 3;
    for (const char *p = tt->buf; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        memcpy(o + len, p, l);
        len += l;
        memcpy(o + len, "\033[K", 3);
        len += 3;
        p += l;
        if (*p == '\n') {
            p++;
            if (*p != '\0') {
                memcpy(o + len, "\r\n", 2);
                len += 2;
            }
        }
    }
    memcpy(o + len, "\033[J", 3);
    len += 3;
    fflush(tt->out);
    int rc = write_all(tt->out_fd, o, len);
    free(o);
    return rc;
}
