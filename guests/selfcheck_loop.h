/*
 * The self-check's mixed-work loop in plain C (no inline assembly), so the
 * same code can also be compiled for the host to cross-check the checksum.
 * Needs u8/u32/u64/s64 typedefs before inclusion.
 */
#ifndef SELFCHECK_LOOP_H
#define SELFCHECK_LOOP_H

#define WORK_N 64
#define SIEVE_N 512

struct loop_result {
    u64 checksum;
    u64 sort_violations;
    u64 primes;
};

static u32 work_arr[WORK_N];
static u8 sieve[SIEVE_N];

static u64 xorshift64star(u64 *state)
{
    u64 x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static u64 rotl64(u64 x, unsigned r)
{
    return (x << (r & 63)) | (x >> ((64 - r) & 63));
}

static struct loop_result selfcheck_loop(u64 iterations, u64 seed)
{
    struct loop_result res = { 0, 0, 0 };
    u64 state = seed;
    u64 sum = 0x9E3779B97F4A7C15ull;

    for (u64 it = 0; it < iterations; it++) {
        /* 1. fill with pseudo-random numbers */
        for (int i = 0; i < WORK_N; i++)
            work_arr[i] = (u32)(xorshift64star(&state) >> 32);

        /* 2. insertion sort */
        for (int i = 1; i < WORK_N; i++) {
            u32 v = work_arr[i];
            int j = i - 1;
            while (j >= 0 && work_arr[j] > v) {
                work_arr[j + 1] = work_arr[j];
                j--;
            }
            work_arr[j + 1] = v;
        }
        for (int i = 1; i < WORK_N; i++)
            res.sort_violations += work_arr[i - 1] > work_arr[i];

        /* 3. FNV-1a over the bytes of the sorted array */
        const u8 *bytes = (const u8 *)work_arr;
        u64 h = 0xcbf29ce484222325ull;
        for (unsigned i = 0; i < sizeof(work_arr); i++) {
            h ^= bytes[i];
            h *= 0x100000001b3ull;
        }

        /* 4. bitwise CRC-32 over the first 16 bytes */
        u32 crc = 0xffffffffu;
        for (int i = 0; i < 16; i++) {
            crc ^= bytes[i];
            for (int k = 0; k < 8; k++)
                crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
        }
        crc = ~crc;

        /* 5. signed and unsigned division and remainders */
        s64 q = 0;
        for (int i = 0; i < 8; i++) {
            s64 num = (s64)work_arr[i * 8] - (s64)0x80000000ll;
            s64 den = (s64)(i * 3 + 1) * ((i & 1) ? -1 : 1);
            q += num / den + num % 7;
            q ^= (s64)((u64)work_arr[i] / (u64)(i + 3));
        }

        /* 6. a small sieve (every 4th iteration) */
        if ((it & 3) == 0) {
            u64 primes = 0;
            for (int i = 0; i < SIEVE_N; i++)
                sieve[i] = (u8)(i >= 2);
            for (int i = 2; i * i < SIEVE_N; i++)
                if (sieve[i])
                    for (int j = i * i; j < SIEVE_N; j += i)
                        sieve[j] = 0;
            for (int i = 0; i < SIEVE_N; i++)
                primes += sieve[i];
            res.primes = primes;
            sum += primes;
        }

        sum = rotl64(sum ^ h, 13) + crc;
        sum ^= (u64)q * 0xff51afd7ed558ccdull;
        sum = rotl64(sum, (unsigned)(it % 61) + 1);
    }
    res.checksum = sum;
    return res;
}

#endif
