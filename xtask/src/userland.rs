//! The Debian userland benchmark: Debian's arm64 `xz-utils`, `bzip2`, `gzip`, `openssl`,
//! `python3`, `perl` and `gcc` (with their dependency closure, fetched with `apt-get
//! download` like the kernel) unpacked into `target/userland/root`, with busybox for the
//! shell tools, an `/init` and the workload scripts, packed into
//! `target/userland/userland.cpio`. Each workload prints `@@ <name> <secs> <md5>` (guest
//! seconds from `/proc/uptime`, the md5 of everything it wrote), so the times and the
//! outputs of our emulator can be compared with QEMU's.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::linux::{apt_opts, cache_dir, run_ok};
use crate::paths::Paths;
use crate::run::Runner;

/// The packages the workloads use; their dependency closure is fetched too.
pub const PACKAGES: [&str; 8] = [
    "xz-utils",
    "bzip2",
    "gzip",
    "openssl",
    "python3",
    "perl",
    "gcc",
    "libc6-dev",
];

/// Dependencies left out: the sanitizer and profiler run-time libraries gcc and binutils
/// depend on (about 30 MB the workloads never load).
const EXCLUDED: [&str; 6] = [
    "libasan8",
    "libtsan2",
    "libhwasan0",
    "liblsan0",
    "libubsan1",
    "libgprofng0",
];

/// Paths removed from the unpacked packages (documentation, translations, LTO).
const PRUNED: [&str; 9] = [
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "usr/share/bug",
    "usr/lib/gcc/aarch64-linux-gnu/12/lto1",
    "usr/bin/aarch64-linux-gnu-lto-dump-12",
    "usr/lib/aarch64-linux-gnu/libc.a",
];

/// Lines around the workload results.
pub const BEGIN: &str = "=== userland begin ===";
pub const END: &str = "=== userland end ===";

/// Guest RAM for both emulators.
pub const MEMORY: &str = "1G";
/// vCPUs for both emulators.
pub const SMP: u32 = 2;

/// `/init`: mounts, busybox applets in /bb (after Debian's tools in PATH), then the
/// workload script if `xtask.userland=` is on the kernel command line, else a shell.
const INIT: &str = r#"#!/bin/sh
/bin/busybox mkdir -p /bb /proc /sys /dev /tmp /root
/bin/busybox --install -s /bb
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin:/bb
export HOME=/root TMPDIR=/tmp LANG=C LC_ALL=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mode=
only=
for a in $(cat /proc/cmdline); do
    case $a in
    xtask.userland=*) mode=${a#*=} ;;
    xtask.only=*) only=${a#*=} ;;
    esac
done
if [ -n "$mode" ]; then
    sh /bench/run.sh "$mode" "$only"
    poweroff -f
fi
echo
echo "Debian userland on Linux $(uname -r) ($(nproc) CPUs). 'poweroff -f' powers off."
exec setsid cttyhack sh
"#;

/// The workloads. `S` scales every size (short 1, full 3). Each runs in an empty /tmp/w
/// with its standard output in /tmp/w/stdout; the checksum is the md5 of all the files
/// it leaves there (in name order).
const RUN_SH: &str = r#"# run.sh MODE ONLY: the workloads, one "@@ name secs md5" line each. Debian's xz, bzip2
# and gzip are called by path: busybox's shell runs its own applets before $PATH.
case $1 in
full) S=3 ;;
*) S=1 ;;
esac
only=$(echo "$2" | tr , ' ')
now() {
    read -r up _ < /proc/uptime
    T=$((${up%.*} * 100 + 1${up#*.} - 100))
}
bench() {
    name=$1
    shift
    case " $only " in
    "  ") ;;
    *" $name "*) ;;
    *) return 0 ;;
    esac
    rm -rf /tmp/w
    mkdir -p /tmp/w
    cd /tmp/w || exit 1
    now
    t0=$T
    "$@" > /tmp/w/stdout 2>&1
    rc=$?
    now
    t1=$T
    cd /
    if [ $rc -eq 0 ]; then
        sum=$(cat /tmp/w/* | md5sum)
        sum=${sum%% *}
    else
        sum=failed-rc$rc
        tail -n 5 /tmp/w/stdout
    fi
    d=$((t1 - t0))
    printf '@@ %s %d.%02d %s\n' "$name" $((d / 100)) $((d % 100)) "$sum"
    rm -rf /tmp/w
}

TEXT=/data/corpus.txt
head -c $((S * 400000)) $TEXT > /tmp/xz.in
head -c $((S * 1000000)) $TEXT > /tmp/bz.in
head -c $((S * 2000000)) $TEXT > /tmp/gz.in
head -c $((S * 500000)) $TEXT > /tmp/pl.in
head -c 8000000 $TEXT > /tmp/enc.in
KEY=000102030405060708090a0b0c0d0e0f
IV=0f0e0d0c0b0a09080706050403020100

w_xz() {
    /usr/bin/xz -6 -T1 -c /tmp/xz.in > a.xz && /usr/bin/xz -dc a.xz > a.out && cmp a.out /tmp/xz.in
}
w_bzip2() {
    /bin/bzip2 -9 -c /tmp/bz.in > a.bz2 && /bin/bzip2 -dc a.bz2 > a.out && cmp a.out /tmp/bz.in
}
w_gzip() {
    /bin/gzip -9 -n -c /tmp/gz.in > a.gz && /bin/gzip -dc a.gz > a.out && cmp a.out /tmp/gz.in
}
w_enc() {
    i=0
    while [ $i -lt $((S * $2)) ]; do
        openssl enc "-$1" -K "$3" -iv $IV -in /tmp/enc.in -out a.enc || return 1
        i=$((i + 1))
    done
    openssl enc -d "-$1" -K "$3" -iv $IV -in a.enc -out a.out && cmp a.out /tmp/enc.in
}
w_gcc() {
    i=0
    while [ $i -lt $S ]; do
        gcc -O2 -c /bench/prog.c -o prog.o || return 1
        i=$((i + 1))
    done
    gcc prog.o -o prog && ./prog
}
w_shell() {
    i=0
    s=0
    str=
    while [ $i -lt $((S * 15000)) ]; do
        i=$((i + 1))
        s=$(((s * 31 + i) % 1000003))
        case $((i % 7)) in
        0 | 5) str="${str}ab$((i % 10))" ;;
        3) str=${str#a} ;;
        6) [ ${#str} -gt 40 ] && str=${str#??????????} ;;
        esac
    done
    echo "$s ${#str}"
    i=0
    while [ $i -lt $((S * 60)) ]; do
        v=$(echo "$i $s" | md5sum)
        s=${v%% *}
        i=$((i + 1))
    done
    echo "$s"
}

echo "userland $1: $(nproc) CPUs, $(grep MemTotal /proc/meminfo)"
echo "=== userland begin ==="
bench xz w_xz
bench bzip2 w_bzip2
bench gzip w_gzip
bench aes w_enc aes-128-cbc 1 $KEY
bench chacha20 w_enc chacha20 1 $KEY$KEY
bench py-sieve python3 /bench/sieve.py $((S * 300000))
bench py-nbody python3 /bench/nbody.py $((S * 8000))
bench py-json python3 /bench/json_rt.py $((S * 1500))
bench py-bigint python3 /bench/bigint.py $((S * 8000))
bench pl-regex perl /bench/regex.pl /tmp/pl.in 1
bench pl-hash perl /bench/hash.pl /tmp/pl.in $S
bench pl-sort perl /bench/sort.pl $((S * 20000))
bench gcc w_gcc
bench shell w_shell
echo "=== userland end ==="
"#;

const SIEVE_PY: &str = r#"import sys

n = int(sys.argv[1])
flags = [True] * (n + 1)
flags[0] = flags[1] = False
i = 2
while i * i <= n:
    if flags[i]:
        for j in range(i * i, n + 1, i):
            flags[j] = False
    i += 1
count = total = last = 0
for k in range(n + 1):
    if flags[k]:
        count += 1
        total += k
        last = k
print(n, count, total, last)
"#;

const NBODY_PY: &str = r#"import sys
from math import sqrt

steps = int(sys.argv[1])
# x, y, z, vx, vy, vz, mass: a heavy star and four planets on inclined orbits.
bodies = [
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 40.0],
    [1.0, 0.0, 0.05, 0.0, 6.2, 0.1, 0.04],
    [0.0, 2.5, -0.1, -3.9, 0.0, 0.05, 0.012],
    [-4.1, 0.3, 0.2, -0.2, -3.1, 0.0, 0.0031],
    [0.5, -6.8, 0.0, 2.4, 0.15, -0.02, 0.0017],
]
px = sum(b[3] * b[6] for b in bodies)
py = sum(b[4] * b[6] for b in bodies)
pz = sum(b[5] * b[6] for b in bodies)
star = bodies[0]
star[3], star[4], star[5] = -px / star[6], -py / star[6], -pz / star[6]


def energy():
    e = 0.0
    for i, a in enumerate(bodies):
        e += 0.5 * a[6] * (a[3] * a[3] + a[4] * a[4] + a[5] * a[5])
        for b in bodies[i + 1:]:
            dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
            e -= a[6] * b[6] / sqrt(dx * dx + dy * dy + dz * dz)
    return e


pairs = [(bodies[i], bodies[j]) for i in range(5) for j in range(i + 1, 5)]
dt = 0.001
e0 = energy()
for _ in range(steps):
    for a, b in pairs:
        dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
        d2 = dx * dx + dy * dy + dz * dz
        mag = dt / (d2 * sqrt(d2))
        ma, mb = a[6] * mag, b[6] * mag
        a[3] -= dx * mb
        a[4] -= dy * mb
        a[5] -= dz * mb
        b[3] += dx * ma
        b[4] += dy * ma
        b[5] += dz * ma
    for b in bodies:
        b[0] += dt * b[3]
        b[1] += dt * b[4]
        b[2] += dt * b[5]
print("%.12f %.12f" % (e0, energy()))
print(" ".join("%.9f" % v for v in bodies[1][:3]))
"#;

const JSON_PY: &str = r#"import json
import sys

n = int(sys.argv[1])
seed = 12345


def rnd():
    global seed
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    return seed


records = []
for i in range(n):
    records.append({
        "id": i,
        "name": "item-%d" % rnd(),
        "tags": ["t%d" % (rnd() % 50) for _ in range(rnd() % 6)],
        "price": (rnd() % 100000) / 100,
        "ratio": rnd() / 7919.0,
        "nested": {"a": rnd() % 1000, "b": [rnd() % 10 for _ in range(4)], "ok": bool(rnd() & 1)},
        "text": "caf\u00e9 \"quoted\" \\ line\n" * (rnd() % 3),
    })
total = 0
for _ in range(4):
    s = json.dumps(records, sort_keys=True)
    back = json.loads(s)
    s2 = json.dumps(back, indent=1, ensure_ascii=False)
    total += len(s) + len(s2)
    records = json.loads(s2)
print(total, sum(r["nested"]["a"] for r in records), sum(r["price"] for r in records))
print(s[-80:])
"#;

const BIGINT_PY: &str = r#"import sys

if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)
digits = int(sys.argv[1])


def arctan_inv(x, one):
    term = one // x
    total = term
    x2 = x * x
    n = 3
    sign = -1
    while term:
        term //= x2
        total += sign * (term // n)
        sign = -sign
        n += 2
    return total


one = 10 ** (digits + 10)
pi = 4 * (4 * arctan_inv(5, one) - arctan_inv(239, one))
s = str(pi // 10 ** 10)
f = 1
for k in range(2, digits):
    f *= k
fs = str(f)
print(s[:12], s[-20:], len(s))
print(len(fs), fs[:20], f % 1000000007, pow(3, digits * 50, 10 ** 40 + 7))
"#;

const REGEX_PL: &str = r#"use strict;
use warnings;

my ($file, $rounds) = @ARGV;
open(my $fh, '<', $file) or die "$file: $!";
my @lines = <$fh>;
close($fh);
my ($words, $caps, $nums, $subs, $len) = (0, 0, 0, 0, 0);
for my $r (1 .. $rounds) {
    for my $l (@lines) {
        my $t = $l;
        $words += () = $t =~ /\b\w+\b/g;
        $caps++ while $t =~ /\b([A-Z][a-z]+)\b/g;
        if ($t =~ /(\d+)\D+(\d+)/) {
            $nums += $1 + $2;
        }
        $subs += ($t =~ s/\b(\w)(\w*?)ing\b/$2$1ed/g) || 0;
        $subs += ($t =~ s/(?<=[aeiou])([bcdfg])\1?/uc($1)/ge) || 0;
        $t =~ tr/a-z/A-Z/;
        $len += length $t;
    }
}
print "$words $caps $nums $subs $len\n";
"#;

const HASH_PL: &str = r#"use strict;
use warnings;

my ($file, $rounds) = @ARGV;
open(my $fh, '<', $file) or die "$file: $!";
my $text = do { local $/; <$fh> };
close($fh);
my %freq;
my %pairs;
for (1 .. $rounds) {
    my $prev = '';
    for my $w (split /\W+/, $text) {
        $w = lc $w;
        $freq{$w}++;
        $pairs{"$prev $w"}++;
        $prev = $w;
    }
}
my %h;
my $x = 1;
for my $i (1 .. $rounds * 75000) {
    $x = ($x * 1103515245 + 12345) % 2147483648;
    $h{$x % 50000} += $i;
    delete $h{($x >> 8) % 50000} if $i % 3 == 0;
}
my @top = (sort { $freq{$b} <=> $freq{$a} || $a cmp $b } keys %freq)[0 .. 9];
my $sum = 0;
$sum += $_ for values %h;
print scalar(keys %freq), ' ', scalar(keys %pairs), ' ', join(',', map { "$_=$freq{$_}" } @top), "\n";
print scalar(keys %h), " $sum\n";
"#;

const SORT_PL: &str = r#"use strict;
use warnings;

my $n = shift;
my $x = 42;
my (@v, @s);
for (1 .. $n) {
    $x = ($x * 69069 + 1) % 4294967296;
    push @v, $x;
    push @s, sprintf("%08x-%d", $x ^ 0x5a5a5a5a, $x % 997);
}
my @a = sort { $a <=> $b } @v;
my @b = sort @s;
my @c = sort { substr($a, 9) <=> substr($b, 9) or $b cmp $a } @s;
my @d = reverse sort { ($a % 1000) <=> ($b % 1000) || $a <=> $b } @v;
my %seen;
my @u = grep { !$seen{$_ % 65536}++ } @a;
my $h = 0;
$h = ($h * 31 + $_) % 1000000007 for @d;
print "$a[0] $a[-1] $b[0] $b[-1] $c[0] $c[-1] $d[0] $d[-1] ", scalar(@u), " $h\n";
"#;

/// The C program gcc compiles: these templates, each instantiated twice (`@K` = 1, 2,
/// with constants that differ), then a `main` calling every instance.
const C_HEADER: &str = "#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static uint32_t seed = 12345;
static uint32_t next_rand(void)
{
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
}
";

const C_TEMPLATES: [&str; 5] = [
    // open-addressing hash table
    "
#define TABLE@K (1u << (10 + @K))
struct entry@K { uint32_t key; uint32_t value; int used; };
static struct entry@K table@K[TABLE@K];

static uint32_t hash@K(uint32_t k)
{
    k ^= k >> 16;
    k *= 0x85ebca6bu + @K;
    k ^= k >> 13;
    return k;
}

static void put@K(uint32_t key, uint32_t value)
{
    uint32_t i = hash@K(key) & (TABLE@K - 1);
    while (table@K[i].used && table@K[i].key != key)
        i = (i + 1) & (TABLE@K - 1);
    table@K[i].used = 1;
    table@K[i].key = key;
    table@K[i].value += value;
}

static uint32_t get@K(uint32_t key)
{
    uint32_t i = hash@K(key) & (TABLE@K - 1);
    while (table@K[i].used) {
        if (table@K[i].key == key)
            return table@K[i].value;
        i = (i + 1) & (TABLE@K - 1);
    }
    return 0;
}

static uint32_t test_hash@K(void)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < TABLE@K / 2; i++)
        put@K(next_rand() % (TABLE@K / 3), i);
    for (uint32_t i = 0; i < TABLE@K / 3; i++)
        sum += get@K(i) * (i | 1);
    return sum;
}
",
    // merge sort of records
    "
struct rec@K { int key; char name[12]; double weight; };

static void merge@K(struct rec@K *a, struct rec@K *tmp, int lo, int mid, int hi)
{
    int i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        if (a[i].key < a[j].key || (a[i].key == a[j].key && strcmp(a[i].name, a[j].name) <= 0))
            tmp[k++] = a[i++];
        else
            tmp[k++] = a[j++];
    }
    while (i < mid)
        tmp[k++] = a[i++];
    while (j < hi)
        tmp[k++] = a[j++];
    memcpy(a + lo, tmp + lo, (size_t)(hi - lo) * sizeof *a);
}

static void msort@K(struct rec@K *a, struct rec@K *tmp, int lo, int hi)
{
    if (hi - lo < 2)
        return;
    int mid = lo + (hi - lo) / 2;
    msort@K(a, tmp, lo, mid);
    msort@K(a, tmp, mid, hi);
    merge@K(a, tmp, lo, mid, hi);
}

static uint32_t test_sort@K(void)
{
    enum { N = 3000 * @K };
    struct rec@K *a = malloc(N * sizeof *a), *tmp = malloc(N * sizeof *tmp);
    uint32_t sum = 0;
    for (int i = 0; i < N; i++) {
        a[i].key = (int)(next_rand() % 1000);
        snprintf(a[i].name, sizeof a[i].name, \"n%u\", next_rand() % 100000);
        a[i].weight = a[i].key * 0.5 + i;
    }
    msort@K(a, tmp, 0, N);
    for (int i = 0; i < N; i++)
        sum = sum * 31 + (uint32_t)a[i].key + (uint32_t)a[i].name[1];
    free(a);
    free(tmp);
    return sum;
}
",
    // floating-point matrix kernel
    "
#define DIM@K (24 + 8 * @K)
static double ma@K[DIM@K][DIM@K], mb@K[DIM@K][DIM@K], mc@K[DIM@K][DIM@K];

static void matmul@K(void)
{
    for (int i = 0; i < DIM@K; i++)
        for (int j = 0; j < DIM@K; j++) {
            double s = 0.0;
            for (int k = 0; k < DIM@K; k++)
                s += ma@K[i][k] * mb@K[k][j];
            mc@K[i][j] = s;
        }
}

static uint32_t test_matrix@K(void)
{
    for (int i = 0; i < DIM@K; i++)
        for (int j = 0; j < DIM@K; j++) {
            ma@K[i][j] = (double)((i * 7 + j * @K) % 13) / 3.0;
            mb@K[i][j] = (double)((i + j * 5) % 11) - 4.5;
        }
    for (int r = 0; r < 3; r++) {
        matmul@K();
        for (int i = 0; i < DIM@K; i++)
            for (int j = 0; j < DIM@K; j++)
                ma@K[i][j] = mc@K[i][j] / (1.0 + DIM@K * 8.0);
    }
    double trace = 0.0;
    for (int i = 0; i < DIM@K; i++)
        trace += mc@K[i][i];
    return (uint32_t)(long long)(trace * 1000.0);
}
",
    // tokenizer and expression evaluator
    "
enum tok@K { NUM@K, PLUS@K, MINUS@K, STAR@K, LPAREN@K, RPAREN@K, END@K };
struct lexer@K { const char *p; enum tok@K tok; long value; };

static void next@K(struct lexer@K *lx)
{
    while (*lx->p == ' ')
        lx->p++;
    switch (*lx->p) {
    case '\\0': lx->tok = END@K; return;
    case '+': lx->tok = PLUS@K; break;
    case '-': lx->tok = MINUS@K; break;
    case '*': lx->tok = STAR@K; break;
    case '(': lx->tok = LPAREN@K; break;
    case ')': lx->tok = RPAREN@K; break;
    default:
        lx->tok = NUM@K;
        lx->value = strtol(lx->p, (char **)&lx->p, 10);
        return;
    }
    lx->p++;
}

static long expr@K(struct lexer@K *lx);

static long atom@K(struct lexer@K *lx)
{
    if (lx->tok == LPAREN@K) {
        next@K(lx);
        long v = expr@K(lx);
        next@K(lx);
        return v;
    }
    if (lx->tok == MINUS@K) {
        next@K(lx);
        return -atom@K(lx);
    }
    long v = lx->value;
    next@K(lx);
    return v;
}

static long term@K(struct lexer@K *lx)
{
    long v = atom@K(lx);
    while (lx->tok == STAR@K) {
        next@K(lx);
        v = (v * atom@K(lx)) % 1000003;
    }
    return v;
}

static long expr@K(struct lexer@K *lx)
{
    long v = term@K(lx);
    while (lx->tok == PLUS@K || lx->tok == MINUS@K) {
        enum tok@K op = lx->tok;
        next@K(lx);
        v = op == PLUS@K ? v + term@K(lx) : v - term@K(lx);
    }
    return v;
}

static uint32_t test_expr@K(void)
{
    char buf[256];
    uint32_t sum = 0;
    for (int i = 0; i < 200 * @K; i++) {
        snprintf(buf, sizeof buf, \"(%u + %u) * %u - (%u * -%u) + %d\", next_rand() % 100,
                 next_rand() % 1000, next_rand() % 50, next_rand() % 70, next_rand() % 9, i);
        struct lexer@K lx = { buf, END@K, 0 };
        next@K(&lx);
        sum = sum * 7 + (uint32_t)expr@K(&lx);
    }
    return sum;
}
",
    // CRC-32 with a generated table
    "
static uint32_t crc_table@K[256];

static void crc_init@K(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (0xedb88320u ^ (c >> 1)) : (c >> 1);
        crc_table@K[i] = c;
    }
}

static uint32_t crc@K(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--)
        c = crc_table@K[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static uint32_t test_crc@K(void)
{
    unsigned char buf[4096];
    uint32_t sum = 0;
    crc_init@K();
    for (int r = 0; r < 4 * @K; r++) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (unsigned char)(next_rand() >> (i % 5));
        sum ^= crc@K(buf, sizeof buf - (size_t)r);
    }
    return sum;
}
",
];

/// The ~400-line C file gcc compiles in the `gcc` workload.
pub fn c_program() -> String {
    let mut s = C_HEADER.to_string();
    let tests = ["hash", "sort", "matrix", "expr", "crc"];
    for k in 1..=2 {
        for t in C_TEMPLATES {
            s.push_str(&t.replace("@K", &k.to_string()));
        }
    }
    s.push_str("\nint main(void)\n{\n");
    for k in 1..=2 {
        for t in tests {
            s.push_str(&format!(
                "    printf(\"{t}{k} %u\\n\", (unsigned)test_{t}{k}());\n"
            ));
        }
    }
    s.push_str("    return 0;\n}\n");
    s
}

/// Words the text corpus is made of.
const WORDS: &str = "the of and to in is was that for on with as by at from his her they \
    which this be are were had have not but all one there their what when would who will \
    more no if out so said up about into than them can only other new some time could these \
    two may then first any like now over such our man me even most made after also did many \
    before must through back years where much your way well down should because each just \
    those people how too little state good very make world still own see men work long get \
    here between both life being under never day same another know while last might us great \
    old year off come since against go came right used take three running building writing \
    reading morning evening something nothing thinking looking being going making during \
    river mountain window garden kitchen letter number system program machine memory";

/// `len` bytes of deterministic English-like text: sentences of words from [`WORDS`],
/// capitalised, with numbers and punctuation, about 70 characters a line.
pub fn corpus(len: usize) -> Vec<u8> {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut seed: u32 = 2024;
    let mut rnd = move || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (seed >> 8) as usize
    };
    let mut out = Vec::with_capacity(len + 100);
    let mut line = 0;
    let mut start = true;
    while out.len() < len {
        let r = rnd();
        let word = if r % 17 == 0 {
            format!("{}", rnd() % 100_000)
        } else {
            let w = words[rnd() % words.len()];
            if start {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            } else {
                w.to_string()
            }
        };
        out.extend_from_slice(word.as_bytes());
        line += word.len() + 1;
        start = false;
        match r % 29 {
            0..=2 => {
                out.push(b'.');
                start = true;
            }
            3 => out.push(b','),
            4 if r % 3 == 0 => {
                out.push(b'?');
                start = true;
            }
            _ => {}
        }
        if line > 70 {
            out.push(b'\n');
            line = 0;
        } else {
            out.push(b' ');
        }
    }
    out.truncate(len);
    out
}

/// Size of `/data/corpus.txt` (the largest input of the full run, plus the cipher input).
const CORPUS_LEN: usize = 8_000_000;

/// Where the userland lives: `target/userland/`.
pub fn dir(paths: &Paths) -> PathBuf {
    paths.target.join("userland")
}

/// The package names to fetch: the dependency closure of [`PACKAGES`] (by
/// `apt-cache depends --recurse`, hard dependencies only) without [`EXCLUDED`].
fn closure(opts: &[String]) -> Result<Vec<String>> {
    let out = run_ok(
        Command::new("apt-cache")
            .args(opts)
            .args([
                "depends",
                "--recurse",
                "--no-recommends",
                "--no-suggests",
                "--no-conflicts",
                "--no-breaks",
                "--no-replaces",
                "--no-enhances",
            ])
            .args(PACKAGES),
        "apt-cache depends --recurse",
    )?;
    Ok(closure_names(&out))
}

/// The package names in `apt-cache depends --recurse` output (the unindented lines,
/// virtual packages `<name>` left out), sorted, without [`EXCLUDED`].
fn closure_names(out: &str) -> Vec<String> {
    let mut names: Vec<String> = out
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('<') && !l.trim().is_empty())
        .map(|l| l.trim().trim_end_matches(":arm64").to_string())
        .filter(|n| !EXCLUDED.contains(&n.as_str()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The `.deb` files of the packages `names` in `dl`, fetching the missing ones with
/// `apt-get download` (arm64 options `opts`; the host's apt state is not touched).
pub(crate) fn fetch_debs(opts: &[String], dl: &Path, names: &[String]) -> Result<Vec<PathBuf>> {
    let missing: Vec<&String> = names.iter().filter(|n| find_deb(dl, n).is_none()).collect();
    if !missing.is_empty() {
        eprintln!(
            "fetching {} Debian arm64 packages into {}",
            missing.len(),
            dl.display()
        );
        run_ok(
            Command::new("apt-get")
                .args(opts)
                .arg("download")
                .args(&missing)
                .current_dir(dl),
            "apt-get download",
        )?;
    }
    names
        .iter()
        .map(|n| find_deb(dl, n).with_context(|| format!("{n}_*.deb not in {}", dl.display())))
        .collect()
}

/// The file names of `debs`, one per line (the cached list of a download).
pub(crate) fn deb_list(debs: &[PathBuf]) -> String {
    debs.iter()
        .filter_map(|d| d.file_name())
        .map(|n| format!("{}\n", n.to_string_lossy()))
        .collect()
}

/// The downloaded `.deb` of `pkg` in `dl` (`pkg_version_arm64.deb`).
fn find_deb(dl: &Path, pkg: &str) -> Option<PathBuf> {
    let prefix = format!("{pkg}_");
    std::fs::read_dir(dl)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with(&prefix) && n.ends_with(".deb")
            })
        })
}

/// The `.deb` files of the closure, downloaded on first use (the list of them is kept in
/// `target/userland/debs.txt`; delete it to fetch again).
pub fn debs(paths: &Paths) -> Result<Vec<PathBuf>> {
    let dir = dir(paths);
    let dl = dir.join("dl");
    let list = dir.join("debs.txt");
    if let Ok(text) = std::fs::read_to_string(&list) {
        let debs: Vec<PathBuf> = text.lines().map(|l| dl.join(l)).collect();
        if !debs.is_empty() && debs.iter().all(|d| d.is_file()) {
            return Ok(debs);
        }
    }
    std::fs::create_dir_all(&dl)?;
    let lists = cache_dir(paths).join("lists");
    std::fs::create_dir_all(lists.join("partial"))?;
    let opts = apt_opts(&lists);
    let names = match closure(&opts) {
        Ok(n) if !n.is_empty() => n,
        _ => {
            // No arm64 package lists yet (or stale ones).
            run_ok(
                Command::new("apt-get").args(&opts).arg("update"),
                "apt-get update (arm64 lists)",
            )?;
            closure(&opts)?
        }
    };
    let debs = fetch_debs(&opts, &dl, &names)?;
    let text = deb_list(&debs);
    std::fs::write(&list, text)?;
    Ok(debs)
}

/// The files the xtask adds to the unpacked packages (path, mode, contents).
fn extra_files() -> Vec<(&'static str, u32, Vec<u8>)> {
    vec![
        ("init", 0o755, INIT.as_bytes().to_vec()),
        ("bench/run.sh", 0o644, RUN_SH.as_bytes().to_vec()),
        ("bench/sieve.py", 0o644, SIEVE_PY.as_bytes().to_vec()),
        ("bench/nbody.py", 0o644, NBODY_PY.as_bytes().to_vec()),
        ("bench/json_rt.py", 0o644, JSON_PY.as_bytes().to_vec()),
        ("bench/bigint.py", 0o644, BIGINT_PY.as_bytes().to_vec()),
        ("bench/regex.pl", 0o644, REGEX_PL.as_bytes().to_vec()),
        ("bench/hash.pl", 0o644, HASH_PL.as_bytes().to_vec()),
        ("bench/sort.pl", 0o644, SORT_PL.as_bytes().to_vec()),
        ("bench/prog.c", 0o644, c_program().into_bytes()),
        ("data/corpus.txt", 0o644, corpus(CORPUS_LEN)),
    ]
}

/// The initramfs (`target/userland/userland.cpio`), rebuilt when the packages, busybox or
/// the files the xtask adds change (a stamp file records them).
pub fn initramfs(paths: &Paths) -> Result<PathBuf> {
    let dir = dir(paths);
    let debs = debs(paths)?;
    let busybox = crate::initramfs::busybox(paths)?;
    let extra = extra_files();
    let mut stamp = String::new();
    for d in &debs {
        stamp.push_str(&format!("{}\n", d.display()));
    }
    let bb_len = std::fs::metadata(&busybox)?.len();
    stamp.push_str(&format!("busybox {} {bb_len}\n", busybox.display()));
    for (name, mode, data) in &extra {
        stamp.push_str(&format!("{name} {mode:o} {}\n", fnv1a(data)));
    }
    stamp.push_str(&format!("pruned {PRUNED:?}\n"));
    let cpio = dir.join("userland.cpio");
    let stamp_file = dir.join("stamp");
    if cpio.is_file() && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(&stamp) {
        return Ok(cpio);
    }
    let root = dir.join("root");
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("removing {}", root.display()))?;
    }
    std::fs::create_dir_all(&root)?;
    eprintln!("unpacking {} packages into {}", debs.len(), root.display());
    for d in &debs {
        run_ok(
            Command::new("dpkg-deb").arg("-x").arg(d).arg(&root),
            &format!("dpkg-deb -x {}", d.display()),
        )?;
    }
    for p in PRUNED {
        let p = root.join(p);
        if p.is_dir() {
            std::fs::remove_dir_all(&p)?;
        } else if p.exists() {
            std::fs::remove_file(&p)?;
        }
    }
    std::fs::copy(&busybox, root.join("bin/busybox"))?;
    let sh = root.join("bin/sh");
    if sh.symlink_metadata().is_err() {
        std::os::unix::fs::symlink("busybox", &sh)?;
    }
    for (name, mode, data) in &extra {
        let p = root.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, data)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode))?;
    }
    for d in ["proc", "sys", "dev", "tmp", "root", "bb"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    let tmp = dir.join("userland.cpio.tmp");
    write_cpio(&root, &tmp)?;
    std::fs::rename(&tmp, &cpio)?;
    std::fs::write(&stamp_file, stamp)?;
    Ok(cpio)
}

/// FNV-1a, to notice a change in an added file.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// One `newc` cpio header and name (padded to 4 bytes).
fn cpio_header(out: &mut Vec<u8>, ino: u32, name: &str, mode: u32, size: u32, rdev: (u32, u32)) {
    let fields = [
        ino,
        mode,
        0, // uid
        0, // gid
        1, // nlink (hard links are stored as separate files)
        0, // mtime
        size,
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// Writes the tree under `root` (directories, files, symlinks; owner root) as a `newc`
/// cpio archive to `dest`, with a `/dev/console` node.
fn write_cpio(root: &Path, dest: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let file =
        std::fs::File::create(dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut w = BufWriter::new(file);
    let mut ino = 0;
    let mut written: u64 = 0;
    let mut emit = |w: &mut BufWriter<std::fs::File>, buf: &[u8]| -> Result<u64> {
        w.write_all(buf)?;
        written += buf.len() as u64;
        Ok(written)
    };
    let mut stack = vec![PathBuf::new()];
    let mut entries = Vec::new();
    while let Some(rel) = stack.pop() {
        let mut children: Vec<_> = std::fs::read_dir(root.join(&rel))?
            .filter_map(|e| e.ok())
            .map(|e| rel.join(e.file_name()))
            .collect();
        children.sort();
        for c in children.into_iter().rev() {
            let meta = std::fs::symlink_metadata(root.join(&c))?;
            if meta.is_dir() {
                stack.push(c.clone());
            }
            entries.push(c);
        }
    }
    entries.sort();
    for rel in entries {
        let path = root.join(&rel);
        let meta = std::fs::symlink_metadata(&path)?;
        let name = rel.to_string_lossy().into_owned();
        let perm = meta.permissions().mode() & 0o7777;
        ino += 1;
        let mut head = Vec::with_capacity(256);
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?;
            let t = target.to_string_lossy();
            cpio_header(&mut head, ino, &name, 0o120_777, t.len() as u32, (0, 0));
            head.extend_from_slice(t.as_bytes());
            pad4(&mut head);
            emit(&mut w, &head)?;
        } else if meta.is_dir() {
            cpio_header(&mut head, ino, &name, 0o040_000 | perm, 0, (0, 0));
            emit(&mut w, &head)?;
        } else if meta.is_file() {
            let data = std::fs::read(&path)?;
            cpio_header(
                &mut head,
                ino,
                &name,
                0o100_000 | perm,
                data.len() as u32,
                (0, 0),
            );
            emit(&mut w, &head)?;
            emit(&mut w, &data)?;
            let pad = (4 - data.len() % 4) % 4;
            emit(&mut w, &[0u8; 3][..pad])?;
        }
    }
    let mut tail = Vec::new();
    ino += 1;
    cpio_header(&mut tail, ino, "dev/console", 0o020_600, 0, (5, 1));
    cpio_header(&mut tail, 0, "TRAILER!!!", 0, 0, (0, 0));
    let total = emit(&mut w, &tail)?;
    let pad = (512 - total % 512) % 512;
    emit(&mut w, &vec![0u8; pad as usize])?;
    w.flush()?;
    Ok(())
}

/// How big the workloads are: `short` is about a third of `full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Short,
    Full,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode> {
        match s {
            "short" => Ok(Mode::Short),
            "full" => Ok(Mode::Full),
            _ => bail!("--userland takes short or full, not `{s}`"),
        }
    }

    pub fn arg(self) -> &'static str {
        match self {
            Mode::Short => "short",
            Mode::Full => "full",
        }
    }

    /// Per run: generous for the interpreter.
    pub fn timeout(self) -> Duration {
        match self {
            Mode::Short => Duration::from_secs(1200),
            Mode::Full => Duration::from_secs(3600),
        }
    }
}

/// One `@@ <name> <secs> <checksum>` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub secs: f64,
    pub sum: String,
}

impl Sample {
    /// The workload exited with an error (its checksum is `failed-rcN`).
    pub fn failed(&self) -> bool {
        self.sum.starts_with("failed")
    }
}

/// The `@@` lines after [`BEGIN`] (up to [`END`]); other lines (kernel messages, a failed
/// workload's output) are skipped. Also says whether [`END`] was seen.
pub fn parse(log: &str) -> (Vec<Sample>, bool) {
    let mut samples = Vec::new();
    let mut inside = false;
    for line in log.lines() {
        let line = line.trim_end_matches('\r').trim();
        if line == BEGIN {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line == END {
            return (samples, true);
        }
        let Some(rest) = line.strip_prefix("@@ ") else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if let [name, secs, sum] = f[..] {
            if let Ok(secs) = secs.parse::<f64>() {
                samples.push(Sample {
                    name: name.to_string(),
                    secs,
                    sum: sum.to_string(),
                });
            }
        }
    }
    (samples, false)
}

/// The geometric mean of positive values (`None` if there are none).
pub fn geomean(xs: &[f64]) -> Option<f64> {
    let logs: Vec<f64> = xs.iter().filter(|x| **x > 0.0).map(|x| x.ln()).collect();
    if logs.is_empty() {
        return None;
    }
    Some((logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

/// One boot of the userland on one runner.
pub struct Run {
    pub runner: Runner,
    pub samples: Vec<Sample>,
    pub finished: bool,
    pub wall: Duration,
    /// What the guest saw (`N CPUs, MemTotal: ...`), from the line before [`BEGIN`].
    pub info: String,
    /// The last lines of the console when the run did not finish.
    pub tail: String,
}

/// The kernel command line running `mode` (and only the workloads in `only`,
/// comma-separated, if given).
pub fn append(mode: Mode, only: Option<&str>) -> String {
    let mut s = format!("console=ttyAMA0 quiet xtask.userland={}", mode.arg());
    if let Some(o) = only {
        s.push_str(&format!(" xtask.only={o}"));
    }
    s
}

/// The command booting the userland on `runner`: `--smp 2`, 1 GiB of RAM.
pub fn command(
    paths: &Paths,
    kernel: &Path,
    initrd: &Path,
    runner: Runner,
    append: &str,
) -> Command {
    let mut cmd =
        crate::linux::command_with(runner, &paths.virt(), kernel, SMP, Some(initrd), append);
    cmd.args(["-m", MEMORY]);
    if runner != Runner::Qemu {
        cmd.arg("--no-stdin");
    }
    cmd
}

/// Boots the userland on `runner` and collects the `@@` lines.
pub fn run_one(
    paths: &Paths,
    kernel: &Path,
    initrd: &Path,
    runner: Runner,
    mode: Mode,
    only: Option<&str>,
) -> Result<Run> {
    let cmd = command(paths, kernel, initrd, runner, &append(mode, only));
    let boot = crate::linux::boot_until(cmd, END, mode.timeout())?;
    let (samples, finished) = parse(&boot.log);
    let log = dir(paths).join(format!("{}.log", runner.label().replace('/', "-")));
    std::fs::write(&log, &boot.log).with_context(|| format!("writing {}", log.display()))?;
    let lines: Vec<&str> = boot.log.lines().collect();
    let info = boot
        .log
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("userland ")?
                .split_once(": ")
                .map(|x| x.1)
        })
        .map(|i| i.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    Ok(Run {
        runner,
        samples,
        finished,
        info,
        wall: boot.elapsed,
        tail: lines[lines.len().saturating_sub(20)..].join("\n"),
    })
}

/// The comparison table: a row per workload with each runner's guest seconds (and, when
/// a QEMU run is among `runs`, the ratio to QEMU's time, `!` when the checksum differs
/// from QEMU's), then the total and the geometric mean of the ratios.
pub fn table(runs: &[(String, Vec<Sample>)]) -> String {
    let reference = runs.iter().position(|(label, _)| label == "qemu");
    let mut names: Vec<&str> = Vec::new();
    for (_, samples) in runs {
        for s in samples {
            if !names.contains(&s.name.as_str()) {
                names.push(&s.name);
            }
        }
    }
    let find = |i: usize, name: &str| runs[i].1.iter().find(|s| s.name == name);
    let mut out = format!("{:<10}", "workload");
    for (i, (label, _)) in runs.iter().enumerate() {
        if Some(i) == reference {
            out.push_str(&format!(" {label:>8}"));
        } else {
            out.push_str(&format!(" {label:>15}"));
        }
    }
    out.push('\n');
    let mut ratios: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    let mut totals = vec![0.0; runs.len()];
    for name in &names {
        out.push_str(&format!("{name:<10}"));
        let q = reference.and_then(|r| find(r, name));
        for (i, total) in totals.iter_mut().enumerate() {
            let s = find(i, name);
            if let Some(s) = s {
                *total += s.secs;
            }
            if Some(i) == reference {
                match s {
                    Some(s) if s.failed() => out.push_str(&format!(" {:>8}", "FAIL")),
                    Some(s) => out.push_str(&format!(" {:>8.2}", s.secs)),
                    None => out.push_str(&format!(" {:>8}", "-")),
                }
                continue;
            }
            let q = q.filter(|q| !q.failed());
            let cell = match (s, q) {
                (None, _) => "-".to_string(),
                (Some(s), _) if s.failed() => "FAIL ".to_string(),
                (Some(s), None) => format!("{:.2}", s.secs),
                (Some(s), Some(q)) => {
                    let mark = if s.sum == q.sum { ' ' } else { '!' };
                    if q.secs > 0.0 && s.secs > 0.0 {
                        let r = s.secs / q.secs;
                        ratios.entry(i).or_default().push(r);
                        format!("{:.2} {:>5.2}x{mark}", s.secs, r)
                    } else {
                        format!("{:.2}   -  {mark}", s.secs)
                    }
                }
            };
            out.push_str(&format!(" {cell:>15}"));
        }
        out.push('\n');
    }
    out.push_str(&format!("{:<10}", "total"));
    for (i, t) in totals.iter().enumerate() {
        if Some(i) == reference {
            out.push_str(&format!(" {t:>8.2}"));
        } else {
            out.push_str(&format!(" {:>15}", format!("{t:.2}       ")));
        }
    }
    out.push('\n');
    if reference.is_some() && runs.len() > 1 {
        out.push_str(&format!("{:<10} {:>8}", "geomean", ""));
        for i in 0..runs.len() {
            if Some(i) == reference {
                continue;
            }
            let cell = match ratios.get(&i).and_then(|r| geomean(r)) {
                Some(g) => format!("{g:.2}x "),
                None => "-".to_string(),
            };
            out.push_str(&format!(" {cell:>15}"));
        }
        out.push('\n');
    }
    out
}

/// Runs the userland on each runner in turn (QEMU first if it is among them), then
/// prints the table and every checksum that differs from QEMU's. With `repeat` > 1, QEMU
/// and the default back end (tiered/mttcg) run `repeat` times, alternating, and the table
/// shows each workload's median: this host's noise moves single runs by tens of percent,
/// and alternating spreads it over both alike.
pub fn bench(
    paths: &Paths,
    runners: &[Runner],
    mode: Mode,
    only: Option<&str>,
    repeat: usize,
) -> Result<()> {
    let kernel = crate::linux::kernel(paths)?;
    let initrd = initramfs(paths)?;
    let main = Runner::Virt(crate::run::Backend::Tiered, crate::run::Sched::Mttcg);
    let repeated: Vec<Runner> = runners
        .iter()
        .copied()
        .filter(|&r| repeat > 1 && (r == Runner::Qemu || r == main))
        .collect();
    println!(
        "userland benchmark ({}, --smp {SMP}, -m {MEMORY}; guest seconds from /proc/uptime, \
         ratio = ours / QEMU, ! = checksum differs from QEMU's{})",
        mode.arg(),
        if repeated.is_empty() {
            String::new()
        } else {
            let labels: Vec<String> = repeated.iter().map(|r| r.label()).collect();
            format!(
                "; {}: median of {repeat} alternating runs",
                labels.join(" and ")
            )
        }
    );
    let mut order: Vec<Runner> = Vec::new();
    for _ in 0..repeat.max(1) {
        order.extend(repeated.iter().copied().filter(|r| *r == Runner::Qemu));
        order.extend(repeated.iter().copied().filter(|r| *r != Runner::Qemu));
    }
    order.extend(
        runners
            .iter()
            .copied()
            .filter(|r| *r == Runner::Qemu && !repeated.contains(r)),
    );
    order.extend(
        runners
            .iter()
            .copied()
            .filter(|r| *r != Runner::Qemu && !repeated.contains(r)),
    );
    let mut runs: Vec<Run> = Vec::new();
    for runner in order {
        let run = run_one(paths, &kernel, &initrd, runner, mode, only)?;
        println!(
            "  {:<13} {:>7.1} s wall, {} workloads ({}){}",
            runner.label(),
            run.wall.as_secs_f64(),
            run.samples.len(),
            run.info,
            if run.finished { "" } else { ", DID NOT FINISH" }
        );
        if !run.finished {
            for l in run.tail.lines() {
                println!("      | {l}");
            }
        }
        runs.push(run);
    }
    // One row per runner (in the order they first ran), medians over its runs.
    let mut labels: Vec<Runner> = Vec::new();
    for r in &runs {
        if !labels.contains(&r.runner) {
            labels.push(r.runner);
        }
    }
    let rows: Vec<(String, Vec<Sample>)> = labels
        .iter()
        .map(|&l| {
            let mine: Vec<&Run> = runs.iter().filter(|r| r.runner == l).collect();
            (l.label(), median_samples(&mine))
        })
        .collect();
    print!("{}", table(&rows));
    if let Some(q) = runs.iter().find(|r| r.runner == Runner::Qemu) {
        for r in runs.iter().skip(1) {
            for s in &r.samples {
                match q.samples.iter().find(|x| x.name == s.name) {
                    Some(x) if x.sum != s.sum => println!(
                        "  checksum differs: {} on {}: {} (qemu {})",
                        s.name,
                        r.runner.label(),
                        s.sum,
                        x.sum
                    ),
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// Per workload (in the first run's order), the median time over `runs`; the checksum
/// is the runs' common one, or all of them joined by `/` when they differ (which the
/// table then marks as differing from QEMU's). A failed run makes the workload failed.
fn median_samples(runs: &[&Run]) -> Vec<Sample> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .samples
        .iter()
        .map(|s0| {
            let all: Vec<&Sample> = runs
                .iter()
                .filter_map(|r| r.samples.iter().find(|s| s.name == s0.name))
                .collect();
            if let Some(f) = all.iter().find(|s| s.failed()) {
                return (*f).clone();
            }
            let mut secs: Vec<f64> = all.iter().map(|s| s.secs).collect();
            secs.sort_by(f64::total_cmp);
            let mut sums: Vec<&str> = Vec::new();
            for s in &all {
                if !sums.contains(&s.sum.as_str()) {
                    sums.push(&s.sum);
                }
            }
            Sample {
                name: s0.name.clone(),
                secs: secs[secs.len() / 2],
                sum: sums.join("/"),
            }
        })
        .collect()
}

/// A runner from its label (`qemu`, `tiered/mttcg`, ...).
pub fn runner_from_label(label: &str) -> Result<Runner> {
    if label == "qemu" {
        return Ok(Runner::Qemu);
    }
    Runner::all_virt()
        .into_iter()
        .find(|r| r.label() == label)
        .with_context(|| {
            format!("unknown runner `{label}` (qemu or BACKEND/SCHED, e.g. tiered/mttcg)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_takes_the_at_lines_between_the_markers() {
        let log = format!(
            "@@ early 1.0 x\n[ 1.0] boot\n{BEGIN}\r\n@@ xz 2.50 abc\r\nnoise\n\
             [   3.1] random: crng init done\n@@ gzip 0.07 def\n@@ bad line\n\
             @@ nan x.y z\n{END}\n@@ late 1 z\n"
        );
        let (s, done) = parse(&log);
        assert!(done);
        assert_eq!(
            s,
            vec![
                Sample {
                    name: "xz".into(),
                    secs: 2.5,
                    sum: "abc".into()
                },
                Sample {
                    name: "gzip".into(),
                    secs: 0.07,
                    sum: "def".into()
                },
            ]
        );
        let (s, done) = parse(&format!("{BEGIN}\n@@ xz 1.00 failed-rc1\n"));
        assert!(!done);
        assert_eq!(s.len(), 1);
        assert_eq!(parse("nothing"), (vec![], false));
    }

    #[test]
    fn geomean_of_ratios() {
        assert_eq!(geomean(&[]), None);
        let g = geomean(&[2.0, 8.0]).unwrap();
        assert!((g - 4.0).abs() < 1e-12);
        let g = geomean(&[1.0, 10.0, 100.0]).unwrap();
        assert!((g - 10.0).abs() < 1e-9);
        // non-positive values (a 0.00 s sample) are left out
        assert!((geomean(&[0.0, 3.0]).unwrap() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn table_marks_differing_checksums_and_gives_the_geomean() {
        let s = |name: &str, secs: f64, sum: &str| Sample {
            name: name.into(),
            secs,
            sum: sum.into(),
        };
        let runs = vec![
            ("qemu".to_string(), vec![s("a", 1.0, "x"), s("b", 2.0, "y")]),
            (
                "tiered/mttcg".to_string(),
                vec![
                    s("a", 2.0, "x"),
                    s("b", 8.0, "z"),
                    s("c", 1.0, "failed-rc1"),
                ],
            ),
        ];
        let t = table(&runs);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[1].starts_with("a") && lines[1].contains("2.00x "));
        assert!(lines[2].contains("4.00x!"));
        assert!(lines[3].starts_with("c") && lines[3].contains("FAIL"));
        assert!(lines[5].starts_with("geomean") && lines[5].contains("2.83x"));
    }

    #[test]
    fn repeated_runs_give_medians_and_keep_differing_checksums() {
        let s = |name: &str, secs: f64, sum: &str| Sample {
            name: name.into(),
            secs,
            sum: sum.into(),
        };
        let run = |samples: Vec<Sample>| Run {
            runner: Runner::Qemu,
            samples,
            finished: true,
            wall: Duration::ZERO,
            info: String::new(),
            tail: String::new(),
        };
        let a = run(vec![
            s("xz", 3.0, "a"),
            s("gz", 1.0, "b"),
            s("sh", 1.0, "c"),
        ]);
        let b = run(vec![
            s("xz", 1.0, "a"),
            s("gz", 1.5, "x"),
            s("sh", 1.0, "failed-rc1"),
        ]);
        let c = run(vec![
            s("xz", 2.0, "a"),
            s("gz", 2.0, "b"),
            s("sh", 1.0, "c"),
        ]);
        let m = median_samples(&[&a, &b, &c]);
        assert_eq!(
            m,
            vec![
                s("xz", 2.0, "a"),
                s("gz", 1.5, "b/x"),
                s("sh", 1.0, "failed-rc1")
            ]
        );
        assert!(median_samples(&[]).is_empty());
    }

    #[test]
    fn closure_names_skip_dependency_lines_and_virtual_packages() {
        let out = "gcc\n  Depends: cpp\n |Depends: x\ncpp\n<awk>\nlibasan8\ngcc\n";
        assert_eq!(
            closure_names(out),
            vec!["cpp".to_string(), "gcc".to_string()]
        );
    }

    #[test]
    fn the_c_program_is_about_400_lines_and_calls_every_test() {
        let c = c_program();
        let n = c.lines().count();
        assert!((350..=500).contains(&n), "{n} lines");
        for t in ["hash", "sort", "matrix", "expr", "crc"] {
            assert!(c.contains(&format!("test_{t}2()")));
        }
    }

    #[test]
    fn corpus_is_deterministic_text() {
        let a = corpus(10_000);
        assert_eq!(a.len(), 10_000);
        assert_eq!(a, corpus(10_000));
        assert!(a
            .iter()
            .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\n'));
        assert!(a.split(|b| *b == b'\n').count() > 100);
    }
}
