/* cmd_demo.c - `crosswatch demo`: a center, three members, sample traffic.
 *
 * Runs a real center (in this process) on a temporary data directory, creates three
 * member organizations and their sensors, writes sample logs, and starts one real
 * `crosswatch ship --once` process per sensor that forwards them over the HTTP API.
 * Then it prints what arrived. With --exit (or when stdin is not a terminal) it
 * stops and removes the temporary data; otherwise the center stays up until Ctrl-C
 * so the API can be explored. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sodium.h>
#include <unistd.h>

#include "center/center.h"
#include "center/http.h"
#include "center/store.h"
#include "center/store_notices.h"
#include "cli/cli.h"
#include "cli/demo_ioc.h"
#include "cli/demo_samples.h"
#include "common/config.h"
#include "common/json.h"
#include "common/log.h"
#include "triage/triage.h"
#include "common/timefmt.h"
#include "common/banned.h"

static const struct cw_option demo_options[] = {
    {"exit", 'x', "exit", NULL, "print the story and exit (default when stdin is not a terminal)"},
    {"listen", 'l', "listen", "ADDR:PORT", "address of the demo center (default 127.0.0.1:0 = any port)"},
    {"data-dir", 'd', "data_dir", "DIR", "keep the demo's data here instead of a temporary directory"},
    {"lines", 'n', "lines", "N", "sample lines per sensor (default 3000)"},
    {NULL, 0, NULL, NULL, NULL},
};

struct demo_sensor {
    const char *member, *name, *format, *kind;
    uint32_t id;
    char log[4200], keyfile[4200], state[4200];
    struct demo_sample_counts counts;
    pid_t pid;
    int status;
};

static struct demo_sensor sensors[] = {
    {"agency-alpha", "web-gw", "combined", "access", 0, "", "", "", {0, 0}, 0, 0},
    {"agency-alpha", "ids", "eve", "eve", 0, "", "", "", {0, 0}, 0, 0},
    {"ministry-beta", "web-gw", "combined", "access", 0, "", "", "", {0, 0}, 0, 0},
    {"ministry-beta", "vpn", "syslog", "syslog", 0, "", "", "", {0, 0}, 0, 0},
    {"university-gamma", "web-gw", "combined", "access", 0, "", "", "", {0, 0}, 0, 0},
};
#define NSENSORS (sizeof(sensors) / sizeof(sensors[0]))
static const char *const members[] = {"agency-alpha", "ministry-beta", "university-gamma"};
/* one address attacks every member: the campaign the triage stage will find */
static const char attacker[] = "203.0.113.77";

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int write_key(const char *path, const char *key)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t n = strlen(key);
    int ok = write(fd, key, n) == (ssize_t)n;
    close(fd);
    return ok ? 0 : -1;
}

static int setup(struct cw_store *st, const char *dir, int lines)
{
    char err[256];
    uint32_t mid[3];
    for (int i = 0; i < 3; i++)
        if (cw_store_member_add(st, members[i], &mid[i], err, sizeof(err))) {
            fprintf(stderr, "demo: %s\n", err);
            return -1;
        }
    int64_t start = cw_now_us() - 3600LL * 1000000;
    for (size_t i = 0; i < NSENSORS; i++) {
        struct demo_sensor *s = &sensors[i];
        int m = !strcmp(s->member, members[0]) ? 0 : !strcmp(s->member, members[1]) ? 1 : 2;
        struct cw_sensor_info si;
        char key[128];
        if (cw_store_sensor_add(st, mid[m], s->name, &si, key, sizeof(key), err, sizeof(err))) {
            fprintf(stderr, "demo: %s\n", err);
            return -1;
        }
        s->id = si.id;
        snprintf(s->log, sizeof(s->log), "%s/logs/%s-%s.log", dir, s->member, s->name);
        snprintf(s->keyfile, sizeof(s->keyfile), "%s/keys/%s-%s.key", dir, s->member, s->name);
        snprintf(s->state, sizeof(s->state), "%s/ship/%s-%s", dir, s->member, s->name);
        int w = write_key(s->keyfile, key);
        memset(key, 0, sizeof(key));
        uint32_t seed = 0x9e3779b9u * (uint32_t)(i + 1);
        char host[128];
        snprintf(host, sizeof(host), "www.%s.example.jp", s->member);
        if (w == 0) {
            if (!strcmp(s->kind, "access"))
                w = demo_write_access_log(s->log, host, attacker, lines, seed, start, &s->counts);
            else if (!strcmp(s->kind, "eve"))
                w = demo_write_eve(s->log, attacker, lines, seed, start, &s->counts);
            else
                w = demo_write_syslog(s->log, attacker, lines / 3, seed, start, &s->counts);
        }
        if (w) {
            fprintf(stderr, "demo: cannot write sample files under %s: %s\n", dir,
                    strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int ship_all(const char *url)
{
    for (size_t i = 0; i < NSENSORS; i++) {
        struct demo_sensor *s = &sensors[i];
        char file[4300];
        snprintf(file, sizeof(file), "%s:%s", s->format, s->log);
        s->pid = fork();
        if (s->pid < 0)
            return -1;
        if (s->pid == 0) {
            /* ship's own log goes to a file beside its state: the story is on stdout */
            char logpath[4300];
            snprintf(logpath, sizeof(logpath), "%s.log", s->state);
            int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd >= 0)
                dup2(fd, 2);
            const char *self = cli_self_path();
            execl(self, "crosswatch", "ship", "--once", "--center", url, "--key-file",
                  s->keyfile, "--state-dir", s->state, "--file", file, (char *)NULL);
            _exit(127);
        }
    }
    int failed = 0;
    for (size_t i = 0; i < NSENSORS; i++) {
        int status = 0;
        waitpid(sensors[i].pid, &status, 0);
        sensors[i].status = status;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "demo: ship for %s/%s failed (status %d); its log: %s.log\n",
                    sensors[i].member, sensors[i].name, status, sensors[i].state);
            failed++;
        }
    }
    return failed ? -1 : 0;
}

static void summary(struct cw_store *st)
{
    printf("\n  %-18s %-8s %-9s %8s %9s %9s\n", "member", "sensor", "format", "lines",
           "accepted", "rejected");
    int64_t lines = 0, acc = 0, rej = 0;
    for (size_t i = 0; i < NSENSORS; i++) {
        struct cw_sensor_info si;
        if (cw_store_sensor_get(st, sensors[i].id, &si))
            continue;
        printf("  %-18s %-8s %-9s %8d %9lld %9lld\n", sensors[i].member, sensors[i].name,
               sensors[i].format, sensors[i].counts.lines, (long long)si.records,
               (long long)si.rejected);
        lines += sensors[i].counts.lines;
        acc += si.records;
        rej += si.rejected;
    }
    printf("  %-18s %-8s %-9s %8lld %9lld %9lld\n", "total", "", "", (long long)lines,
           (long long)acc, (long long)rej);
    struct cw_totals t;
    char err[256];
    if (cw_store_totals(st, &t, err, sizeof(err)) == 0)
        printf("\n  stored durably: %lld records in %lld batches; %lld retried batches were "
               "recognised and stored once\n",
               (long long)t.records, (long long)t.batches, (long long)t.duplicates);
}

/* Triage: what the center made of it, as the funnel from records to notices. */
static void funnel(struct cw_store *st, int64_t notice_event, int64_t notices, int64_t acked)
{
    struct cw_triage_summary t;
    struct cw_totals tot;
    char err[256];
    if (cw_store_triage_summary(st, &t, err, sizeof(err)) ||
        cw_store_totals(st, &tot, err, sizeof(err)))
        return;
    printf("\n  from records to notices\n");
    printf("    %-34s %9lld\n", "records in", (long long)tot.records);
    printf("    %-34s %9lld  (IDS alerts and Sigma rules)\n", "detections", (long long)t.detections);
    printf("    %-34s %9lld  (", "dropped as noise",
           (long long)(t.detections - t.per_reason[CW_NOISE_KEPT]));
    const char *sep = "";
    for (int k = 1; k < CW_NOISE__COUNT; k++)
        if (t.per_reason[k]) {
            printf("%s%s %lld", sep, cw_noise_reason_name((enum cw_noise_reason)k),
                   (long long)t.per_reason[k]);
            sep = ", ";
        }
    printf(")\n");
    printf("    %-34s %9lld\n", "kept", (long long)t.per_reason[CW_NOISE_KEPT]);
    printf("    %-34s %9lld\n", "events requiring confirmation", (long long)t.events);
    printf("    %-34s %9lld  (one attacker, several members)\n", "campaigns across members",
           (long long)t.campaigns);
    printf("    %-34s %9lld  (通報 about event %lld, edge_exploit at agency-alpha)\n",
           "notices sent", (long long)notices, (long long)notice_event);
    printf("    %-34s %9lld\n", "acknowledged by the member", (long long)acked);
}

/* The analyst's part of the story: the edge-device exploitation event at
 * agency-alpha is investigated and becomes a notice (通報), which the member's staff
 * acknowledge. Store calls, as the API handlers make them. Returns the notice id. */
static int64_t notice_story(struct cw_center *c, uint32_t alpha_id, int64_t *event_out,
                            int *acked)
{
    struct cw_store *st = cw_center_store(c);
    struct cw_buf out = CW_BUF_INIT;
    char err[512];
    struct cw_event_filter f = {.member_id = alpha_id, .attack_class = CW_AC_EDGE_EXPLOIT,
                                .state = "new", .limit = 1};
    int64_t ev = 0, nid = 0;
    if (cw_store_events_json(st, &f, &out, err, sizeof(err)) == 0) {
        struct cw_json j;
        jsmntok_t tok[256];
        const char *jerr;
        int arr, idt;
        if (cw_json_parse(&j, out.data, out.len, tok, 256, &jerr) == 0 &&
            (arr = cw_json_get(&j, 0, "events")) >= 0 && j.tok[arr].size > 0 &&
            (idt = cw_json_get(&j, arr + 1, "id")) >= 0)
            cw_json_int(&j, idt, &ev);
    }
    cw_buf_release(&out);
    if (!ev) {
        printf("  (no edge-device event at agency-alpha to notify)\n");
        return 0;
    }
    if (cw_store_event_set_state(st, cw_center_triage(c), ev, "investigating", "analyst",
                                 "demo: confirmed in the raw lines", err, sizeof(err))) {
        printf("  notice: %s\n", err);
        return 0;
    }
    const struct cw_notice_template *t = cw_notice_template_find("edge_exploit", "ja");
    struct cw_notice_new nn;
    memset(&nn, 0, sizeof(nn));
    nn.member_id = alpha_id;
    nn.events = &ev;
    nn.nevents = 1;
    nn.title = t ? t->title : "Edge device exploitation";
    nn.what = t ? t->what : "see the event";
    nn.why = t ? t->why : "it may have succeeded";
    nn.action = t ? t->action : "check the appliance";
    nn.fill_mask = t ? 0xf : 0;
    nn.template_id = t ? t->id : NULL;
    nn.lang = t ? t->lang : NULL;
    nn.answer_by_us = cw_now_us() + 3LL * 86400 * 1000000;
    nn.actor = "analyst";
    if (cw_store_notice_create(st, &nn, &nid, err, sizeof(err))) {
        printf("  notice: %s\n", err);
        return 0;
    }
    *event_out = ev;
    *acked = cw_store_notice_act(st, nid, alpha_id, CW_NOTICE_ACK, "alpha-staff", NULL, err,
                                 sizeof(err)) == 0;
    return nid;
}

/* People to sign in with (the web dashboard and portal, or POST /api/v1/login): one
 * coordinator analyst and one member admin per sample member (an admin, so the portal
 * shows the member's sensors' health too). Passwords random per run, printed once. */
static const struct {
    const char *name, *member; /* member NULL: the coordinator analyst */
} people[] = {
    {"analyst", NULL},
    {"alpha-staff", "agency-alpha"},
    {"beta-staff", "ministry-beta"},
    {"gamma-staff", "university-gamma"},
};
#define NPEOPLE (sizeof(people) / sizeof(people[0]))

static void demo_people(struct cw_store *st, char pw[][32])
{
    unsigned char rnd[12];
    char err[256];
    int64_t id;
    for (size_t i = 0; i < NPEOPLE; i++) {
        struct cw_member_info m = {0};
        if (people[i].member && cw_store_member_find(st, people[i].member, &m) != 0)
            continue;
        randombytes_buf(rnd, sizeof(rnd));
        sodium_bin2base64(pw[i], 32, rnd, sizeof(rnd), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        if (cw_store_user_add(st, people[i].name,
                              people[i].member ? CW_ROLE_MEMBER_ADMIN : CW_ROLE_COORD_ANALYST,
                              people[i].member ? m.id : 0, pw[i], &id, err, sizeof(err))) {
            fprintf(stderr, "demo: %s\n", err);
            pw[i][0] = 0;
        }
    }
}

/* Scanner knowledge for the demo center, when it is where `make demo` runs: the
 * MISP warninglists beside the project (../shared) and the project's own list. */
static void demo_knowledge(struct cw_config *ccfg)
{
    const char *shared = getenv("CW_SHARED_DIR");
    char wl[4096];
    snprintf(wl, sizeof(wl), "%s/data/misp/warninglists", shared && *shared ? shared : "../shared");
    struct stat sb;
    if (stat(wl, &sb) == 0 && S_ISDIR(sb.st_mode))
        cw_config_add(ccfg, "serve", "warninglists_dir", wl, "demo", true);
    if (stat("rules/scanner-user-agents.txt", &sb) == 0)
        cw_config_add(ccfg, "serve", "scanner_ua_file", "rules/scanner-user-agents.txt", "demo",
                      true);
    if (stat("rules/sigma", &sb) == 0 && S_ISDIR(sb.st_mode))
        cw_config_add(ccfg, "serve", "sigma_dir", "rules/sigma", "demo", true);
    if (stat("rules/fieldmap.conf", &sb) == 0)
        cw_config_add(ccfg, "serve", "sigma_fieldmap", "rules/fieldmap.conf", "demo", true);
    if (stat("rules/yara", &sb) == 0 && S_ISDIR(sb.st_mode))
        cw_config_add(ccfg, "serve", "sample_yara_dir", "rules/yara", "demo", true);
}

static int mkdirs(const char *dir)
{
    static const char *const sub[] = {"logs", "keys", "ship"};
    for (size_t i = 0; i < 3; i++) {
        char p[4200];
        snprintf(p, sizeof(p), "%s/%s", dir, sub[i]);
        if (mkdir(p, 0700) && errno != EEXIST)
            return -1;
    }
    return 0;
}

static void remove_tree(const char *dir)
{
    pid_t p = fork();
    if (p == 0) {
        execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
        _exit(127);
    }
    if (p > 0)
        waitpid(p, NULL, 0);
}

int cmd_demo(int argc, char **argv)
{
    struct cw_config cfg;
    char err[512];
    bool help, exit_after;
    const char *pos[1];
    size_t npos;
    int64_t lines;
    cw_config_init(&cfg);
    int rc = 2;
    if (cw_options_parse(demo_options, "demo", argc, argv, &cfg, &help, pos, 0, &npos, err,
                         sizeof(err)) ||
        cw_config_bool(&cfg, "demo", "exit", !isatty(0), &exit_after, err, sizeof(err)) ||
        cw_config_int(&cfg, "demo", "lines", 3000, &lines, err, sizeof(err))) {
        fprintf(stderr, "crosswatch demo: %s\n", err);
        goto out;
    }
    if (help) {
        cw_options_help(stdout, "crosswatch demo [options]",
                        "A self-contained center with three sample member organizations whose\n"
                        "sensors ship generated logs through `crosswatch ship`.",
                        demo_options);
        rc = 0;
        goto out;
    }
    if (lines < 10 || lines > 10000000) {
        fprintf(stderr, "crosswatch demo: --lines must be between 10 and 10000000\n");
        goto out;
    }
    rc = 1;
    char dir[4096];
    const char *dd = cw_config_str(&cfg, "demo", "data_dir", NULL);
    bool temp = dd == NULL;
    if (dd) {
        snprintf(dir, sizeof(dir), "%s", dd);
        if (mkdir(dir, 0700) && errno != EEXIST) {
            fprintf(stderr, "crosswatch demo: cannot create %s: %s\n", dir, strerror(errno));
            goto out;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/crosswatch-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "crosswatch demo: cannot create a temporary directory: %s\n",
                    strerror(errno));
            goto out;
        }
    }
    struct cw_config ccfg;
    cw_config_init(&ccfg);
    char center_dir[4200];
    snprintf(center_dir, sizeof(center_dir), "%s/center", dir);
    cw_config_add(&ccfg, "serve", "data_dir", center_dir, "demo", true);
    cw_config_add(&ccfg, "serve", "listen", cw_config_str(&cfg, "demo", "listen", "127.0.0.1:0"),
                  "--listen", true);
    demo_knowledge(&ccfg);
    struct cw_center_config cc;
    struct cw_center *c = NULL;
    cw_log_set_level(CW_LOG_WARN); /* the story is on stdout; keep stderr for problems */
    if (cw_center_config_load(&cc, &ccfg, err, sizeof(err)) ||
        cw_center_start(&c, &cc, err, sizeof(err))) {
        fprintf(stderr, "crosswatch demo: cannot start the center: %s\n", err);
        cw_config_release(&ccfg);
        goto out;
    }
    cw_config_release(&ccfg);
    int64_t t0 = cw_monotonic_ms();
    printf("crosswatch demo: one center, three member organizations\n\n");
    printf("[1/4] center running at %s (data: %s)\n", cw_center_url(c), center_dir);
    fflush(stdout);
    if (mkdirs(dir) || setup(cw_center_store(c), dir, (int)lines)) {
        cw_center_stop(c);
        goto out;
    }
    printf("[2/4] members agency-alpha, ministry-beta, university-gamma with %zu sensors; "
           "sample logs written\n", NSENSORS);
    printf("[3/4] shipping: one `crosswatch ship --once` per sensor ...\n");
    fflush(stdout);
    int shipped = ship_all(cw_center_url(c));
    printf("[4/4] what arrived and what triage made of it (%.1f s):",
           (double)(cw_monotonic_ms() - t0) / 1000.0);
    summary(cw_center_store(c));
    struct cw_member_info alpha;
    char pw[NPEOPLE][32] = {{0}};
    int64_t notice_event = 0, notice = 0;
    int acked = 0;
    if (cw_store_member_find(cw_center_store(c), "agency-alpha", &alpha) == 0)
        notice = notice_story(c, alpha.id, &notice_event, &acked);
    demo_people(cw_center_store(c), pw);
    funnel(cw_center_store(c), notice_event, notice ? 1 : 0, acked);
    for (size_t i = 0; i < NPEOPLE; i++) /* indicators: a sample, a publish, a retro-hunt */
        if (people[i].member && !strcmp(people[i].member, "agency-alpha") && pw[i][0])
            demo_indicators(cw_center_url(c), cw_center_admin_token_path(c), people[i].name,
                            pw[i]);
    printf("\n  Each sample access log holds one deliberately truncated line: it is rejected\n"
           "  with its line number and reason, never silently dropped.\n");
    printf("\nAPI: %s   admin token: %s\n", cw_center_url(c), cw_center_admin_token_path(c));
    printf("dashboard: %s/   (the watch floor and the member portal; sign in as one of:)\n",
           cw_center_url(c));
    for (size_t i = 0; i < NPEOPLE; i++)
        if (pw[i][0])
            printf("  %-12s password %s  (%s%s)\n", people[i].name, pw[i],
                   people[i].member ? "member admin of " : "",
                   people[i].member ? people[i].member : "coordinator analyst");
    printf("try: crosswatch admin --center %s --token-file %s events\n", cw_center_url(c),
           cw_center_admin_token_path(c));
    fflush(stdout);
    rc = shipped == 0 ? 0 : 1;
    if (!exit_after) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        printf("\nThe center stays up until Ctrl-C.\n");
        fflush(stdout);
        while (!stop_requested) {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
            cw_center_tick(c);
        }
    }
    cw_center_stop(c);
    if (temp)
        remove_tree(dir);
out:
    cw_config_release(&cfg);
    return rc;
}
