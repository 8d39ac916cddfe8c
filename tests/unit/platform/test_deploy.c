/* SPDX-License-Identifier: MIT */
/*
 * Checks of the deployment files (run from the repository root): the systemd units in deploy/
 * parse as units (sections, Key=Value lines; `systemd-analyze verify` when the machine has it,
 * where any complaint about our files fails) and keep their hardening; the Dockerfile has a
 * build stage and a slim non-root runtime stage that installs a package for every shared
 * library the built binary needs (checked with readelf, ldconfig and dpkg where present).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KEYS 256

/* ======================== systemd units ======================== */

struct kv {
    char section[32];
    char key[64];
    char value[512];
};

struct unit {
    struct kv kv[MAX_KEYS];
    size_t n;
};

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t");
    memmove(s, s + lead, strlen(s + lead) + 1);
}

/* Parse a unit file the way systemd reads it; fails the test on anything that is not a unit. */
static void unit_parse(const char *path, struct unit *u)
{
    static const char *sections[] = {"Unit", "Service", "Timer", "Install", NULL};
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    memset(u, 0, sizeof(*u));
    char line[1024], section[32] = "";
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f))
            fail_msg("%s:%d: line too long", path, lineno);
        trim(line);
        if (!line[0] || line[0] == '#' || line[0] == ';')
            continue;
        if (line[strlen(line) - 1] == '\\')
            fail_msg("%s:%d: continuation lines are not used here", path, lineno);
        if (line[0] == '[') {
            char *close = strchr(line, ']');
            if (!close || close[1])
                fail_msg("%s:%d: malformed section header", path, lineno);
            *close = '\0';
            bool known = false;
            for (size_t i = 0; sections[i]; i++)
                known = known || strcmp(line + 1, sections[i]) == 0;
            if (!known)
                fail_msg("%s:%d: unknown section [%s]", path, lineno, line + 1);
            snprintf(section, sizeof(section), "%.31s", line + 1);
            continue;
        }
        if (!section[0])
            fail_msg("%s:%d: key outside a section", path, lineno);
        char *eq = strchr(line, '=');
        if (!eq || eq == line)
            fail_msg("%s:%d: not Key=Value: %s", path, lineno, line);
        *eq = '\0';
        trim(line);
        for (const char *k = line; *k; k++) {
            if (!isalnum((unsigned char)*k))
                fail_msg("%s:%d: bad key name %s", path, lineno, line);
        }
        if (u->n == MAX_KEYS)
            fail_msg("%s: too many keys", path);
        struct kv *kv = &u->kv[u->n++];
        snprintf(kv->section, sizeof(kv->section), "%.31s", section);
        snprintf(kv->key, sizeof(kv->key), "%.63s", line);
        snprintf(kv->value, sizeof(kv->value), "%.511s", eq + 1);
        trim(kv->value);
    }
    fclose(f);
}

/* The last value of section.key, or NULL. */
static const char *unit_get(const struct unit *u, const char *section, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < u->n; i++) {
        if (strcmp(u->kv[i].section, section) == 0 && strcmp(u->kv[i].key, key) == 0)
            v = u->kv[i].value;
    }
    return v;
}

static bool unit_has_value(const struct unit *u, const char *section, const char *key,
                           const char *needle)
{
    for (size_t i = 0; i < u->n; i++) {
        if (strcmp(u->kv[i].section, section) == 0 && strcmp(u->kv[i].key, key) == 0 &&
            strstr(u->kv[i].value, needle))
            return true;
    }
    return false;
}

static void expect(const struct unit *u, const char *file, const char *section, const char *key,
                   const char *want)
{
    const char *v = unit_get(u, section, key);
    if (!v || strcmp(v, want) != 0)
        fail_msg("%s: [%s] %s must be %s (is %s)", file, section, key, want, v ? v : "unset");
}

/* Both services run hardened as the same unprivileged user, state under /var/lib/iceshop. */
static void expect_hardened(const struct unit *u, const char *file)
{
    expect(u, file, "Service", "DynamicUser", "yes");
    expect(u, file, "Service", "User", "iceshop");
    expect(u, file, "Service", "NoNewPrivileges", "yes");
    expect(u, file, "Service", "ProtectSystem", "strict");
    expect(u, file, "Service", "ProtectHome", "yes");
    expect(u, file, "Service", "PrivateTmp", "yes");
    expect(u, file, "Service", "CapabilityBoundingSet", "");
    if (!unit_has_value(u, "Service", "StateDirectory", "iceshop"))
        fail_msg("%s: StateDirectory must include iceshop", file);
    if (!unit_has_value(u, "Service", "Environment",
                        "ICESHOP_DATABASE_URL=sqlite:///var/lib/iceshop/"))
        fail_msg("%s: the database must live in the StateDirectory", file);
}

static void test_units(void **state)
{
    (void)state;
    struct unit *u = calloc(1, sizeof(*u));
    assert_non_null(u);

    unit_parse("deploy/iceshop.service", u);
    expect_hardened(u, "iceshop.service");
    expect(u, "iceshop.service", "Service", "ExecStart", "/usr/local/bin/iceshop serve");
    expect(u, "iceshop.service", "Service", "KillSignal", "SIGTERM");
    expect(u, "iceshop.service", "Install", "WantedBy", "multi-user.target");
    assert_true(unit_has_value(u, "Service", "ExecReload", "-HUP"));
    assert_non_null(unit_get(u, "Unit", "Description"));

    unit_parse("deploy/iceshop-backup.service", u);
    expect_hardened(u, "iceshop-backup.service");
    expect(u, "iceshop-backup.service", "Service", "Type", "oneshot");
    assert_true(unit_has_value(u, "Service", "ExecStart", "/usr/local/bin/iceshop backup "));
    assert_true(unit_has_value(u, "Service", "StateDirectory", "iceshop-backups"));

    unit_parse("deploy/iceshop-backup.timer", u);
    assert_non_null(unit_get(u, "Timer", "OnCalendar"));
    expect(u, "iceshop-backup.timer", "Timer", "Unit", "iceshop-backup.service");
    expect(u, "iceshop-backup.timer", "Install", "WantedBy", "timers.target");
    free(u);
}

/* Run `cmd`, output into out; the exit status, or -1. */
static int sh(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t used = fread(out, 1, n - 1, p);
    out[used] = '\0';
    while (fgetc(p) != EOF) {
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *binary(void)
{
    const char *bin = getenv("ICESHOP_BIN");
    return bin && *bin ? bin : "build/debug/iceshop";
}

/* systemd's own parser, on copies whose iceshop path is the built binary (verify wants one). */
static void test_units_systemd_analyze(void **state)
{
    (void)state;
    char out[8192];
    if (sh("command -v systemd-analyze 2>/dev/null", out, sizeof(out)) != 0) {
        fprintf(stderr, "skip: no systemd-analyze here; the structural checks above stand\n");
        skip();
        return;
    }
    char bin[1024];
    if (!realpath(binary(), bin))
        fail_msg("no iceshop binary at %s", binary());
    const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
    char dir[512], cmd[4096];
    snprintf(dir, sizeof(dir), "%s/test_deploy_%d", tmp, (int)getpid());
    snprintf(cmd, sizeof(cmd),
             "rm -rf '%s' && mkdir -p '%s' && for f in deploy/*.service deploy/*.timer; do "
             "sed 's#/usr/local/bin/iceshop#%s#g' \"$f\" > '%s'/$(basename \"$f\"); done && "
             "cd '%s' && systemd-analyze verify --man=no ./iceshop.service "
             "./iceshop-backup.service ./iceshop-backup.timer 2>&1",
             dir, dir, bin, dir, dir);
    int rc = sh(cmd, out, sizeof(out));
    /* verify exits 0 even for unknown keys: any line naming one of our files is a failure */
    bool ours = strstr(out, "iceshop.service") || strstr(out, "iceshop-backup.");
    if (rc != 0 || ours)
        fail_msg("systemd-analyze verify (rc %d):\n%s", rc, out);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    sh(cmd, out, sizeof(out));
}

/* ======================== Dockerfile ======================== */

#define MAX_INSTR 128

struct instr {
    char op[16];
    char args[2048];
};

/* Instructions of the Dockerfile with continuation lines joined; comments dropped. */
static size_t dockerfile_parse(const char *path, struct instr *ins, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    size_t n = 0;
    char line[1024], joined[2048] = "";
    bool cont = false;
    while (fgets(line, sizeof(line), f)) {
        trim(line);
        if (!cont && (!line[0] || line[0] == '#'))
            continue;
        if (cont && line[0] == '#')
            continue;
        size_t len = strlen(line);
        bool more = len && line[len - 1] == '\\';
        if (more)
            line[--len] = '\0';
        size_t used = strlen(joined);
        snprintf(joined + used, sizeof(joined) - used, "%s%s", used ? " " : "", line);
        cont = more;
        if (cont)
            continue;
        if (n == max)
            fail_msg("%s: too many instructions", path);
        char *sp = joined + strcspn(joined, " \t");
        size_t oplen = (size_t)(sp - joined);
        if (oplen == 0 || oplen >= sizeof(ins[n].op))
            fail_msg("%s: no instruction in \"%s\"", path, joined);
        memcpy(ins[n].op, joined, oplen);
        ins[n].op[oplen] = '\0';
        for (char *c = ins[n].op; *c; c++) {
            if (!isupper((unsigned char)*c))
                fail_msg("%s: instruction %s is not upper case", path, ins[n].op);
        }
        snprintf(ins[n].args, sizeof(ins[n].args), "%s", sp + strspn(sp, " \t"));
        n++;
        joined[0] = '\0';
    }
    fclose(f);
    if (cont)
        fail_msg("%s: ends inside a continuation", path);
    return n;
}

/* The words after "apt-get install" (options dropped) up to the next && in `args`, appended. */
static void apt_packages(const char *args, char *out, size_t n)
{
    const char *p = strstr(args, "apt-get install");
    if (!p)
        return;
    p += strlen("apt-get install");
    const char *end = strstr(p, "&&");
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char words[2048];
    snprintf(words, sizeof(words), "%.*s", (int)len, p);
    char *save = NULL;
    for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (w[0] == '-')
            continue;
        size_t used = strlen(out);
        snprintf(out + used, n - used, " %s ", w);
    }
}

static void test_dockerfile(void **state)
{
    (void)state;
    struct instr *ins = calloc(MAX_INSTR, sizeof(*ins));
    assert_non_null(ins);
    size_t n = dockerfile_parse("Dockerfile", ins, MAX_INSTR);
    static const char *known[] = {"FROM",    "RUN",    "COPY",   "ENV",         "USER",
                                  "WORKDIR", "VOLUME", "EXPOSE", "STOPSIGNAL",  "ENTRYPOINT",
                                  "CMD",     "ARG",    "LABEL",  "HEALTHCHECK", NULL};
    int froms = 0;
    size_t last_from = 0;
    for (size_t i = 0; i < n; i++) {
        bool ok = false;
        for (size_t k = 0; known[k]; k++)
            ok = ok || strcmp(ins[i].op, known[k]) == 0;
        if (!ok)
            fail_msg("Dockerfile: unknown instruction %s", ins[i].op);
        if (strcmp(ins[i].op, "FROM") == 0) {
            froms++;
            last_from = i;
        }
    }
    assert_true(froms >= 2); /* multi-stage */
    assert_string_equal(ins[0].op, "FROM");
    if (!strstr(ins[0].args, " AS build"))
        fail_msg("Dockerfile: the first stage must be named build");
    if (strncmp(ins[last_from].args, "debian:12-slim", 14) != 0)
        fail_msg("Dockerfile: the runtime stage must be debian:12-slim, is %s",
                 ins[last_from].args);

    /* the runtime stage: not root, the binary from the build stage, exec-form entry point */
    char runtime_pkgs[4096] = "";
    const char *user = NULL;
    bool copied = false, exposed = false, entry = false;
    for (size_t i = last_from + 1; i < n; i++) {
        if (strcmp(ins[i].op, "USER") == 0)
            user = ins[i].args;
        if (strcmp(ins[i].op, "COPY") == 0 && strstr(ins[i].args, "--from=build") &&
            strstr(ins[i].args, "/usr/local/bin/iceshop"))
            copied = true;
        if (strcmp(ins[i].op, "EXPOSE") == 0 && strstr(ins[i].args, "8080"))
            exposed = true;
        if (strcmp(ins[i].op, "ENTRYPOINT") == 0 && ins[i].args[0] == '[')
            entry = true;
        if (strcmp(ins[i].op, "RUN") == 0)
            apt_packages(ins[i].args, runtime_pkgs, sizeof(runtime_pkgs));
        if (strcmp(ins[i].op, "ENV") == 0) {
            static const char *secret_words[] = {"KEY=", "SECRET", "PASSWORD", "TOKEN", NULL};
            for (size_t k = 0; secret_words[k]; k++) {
                if (strstr(ins[i].args, secret_words[k]))
                    fail_msg("Dockerfile: secrets never go in the image: ENV %s", ins[i].args);
            }
        }
    }
    if (!user || strcmp(user, "root") == 0 || user[0] == '0')
        fail_msg("Dockerfile: the runtime stage must run as a non-root USER");
    assert_true(copied);
    assert_true(exposed);
    assert_true(entry);

    /* every file the build stage copies exists here */
    for (size_t i = 1; i < last_from; i++) {
        if (strcmp(ins[i].op, "COPY") != 0 || strstr(ins[i].args, "--from"))
            continue;
        char args[2048];
        snprintf(args, sizeof(args), "%s", ins[i].args);
        char *save = NULL;
        char *words[16];
        int nw = 0;
        for (char *w = strtok_r(args, " \t", &save); w && nw < 16; w = strtok_r(NULL, " \t", &save))
            words[nw++] = w;
        for (int k = 0; k < nw - 1; k++) {
            struct stat st;
            if (stat(words[k], &st))
                fail_msg("Dockerfile: COPY %s: no such file in the repository", words[k]);
        }
    }

    /* a runtime package for every shared library the binary needs (where dpkg can tell) */
    char out[8192], cmd[2048];
    if (sh("command -v readelf >/dev/null && command -v dpkg >/dev/null && command -v ldconfig "
           ">/dev/null",
           out, sizeof(out)) != 0) {
        fprintf(stderr, "skip: no readelf/dpkg/ldconfig: runtime libraries not checked\n");
        free(ins);
        return;
    }
    snprintf(cmd, sizeof(cmd),
             "for lib in $(readelf -d '%s' | sed -n 's/.*Shared library: \\[\\(.*\\)\\]/\\1/p'); "
             "do path=$(ldconfig -p | awk -v l=\"$lib\" '$1==l {print $NF; exit}'); "
             "pkg=$( (dpkg -S \"$path\" || dpkg -S \"/usr$path\" || dpkg -S \"${path#/usr}\") "
             "2>/dev/null | head -1 | cut -d: -f1); echo \"$lib ${pkg:-?}\"; done",
             binary());
    assert_int_equal(sh(cmd, out, sizeof(out)), 0);
    int checked = 0;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char lib[256], pkg[256];
        if (sscanf(line, "%255s %255s", lib, pkg) != 2)
            continue;
        /* the C runtime is in every Debian image; sanitizer runtimes only in test builds */
        if (strcmp(pkg, "libc6") == 0 || strcmp(pkg, "libgcc-s1") == 0 ||
            strncmp(pkg, "libasan", 7) == 0 || strncmp(pkg, "libubsan", 8) == 0)
            continue;
        char word[300];
        snprintf(word, sizeof(word), " %s ", pkg);
        if (strcmp(pkg, "?") == 0 || !strstr(runtime_pkgs, word))
            fail_msg("Dockerfile: the binary needs %s (package %s), which the runtime stage "
                     "does not install",
                     lib, pkg);
        checked++;
    }
    assert_true(checked >= 5);
    free(ins);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_units_systemd_analyze),
        cmocka_unit_test(test_dockerfile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
