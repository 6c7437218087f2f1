/*
 * _cdice: Dice / Jaccard similarity kernels over packed bit filters.
 *
 * A filter is a row of w little-endian uint64 words (see linkage/format.py). Every entry
 * point takes plain buffers (numpy arrays through the buffer protocol, no numpy headers),
 * validates sizes with the GIL held, then releases the GIL for the whole computation so
 * that Python threads can run several row blocks at once (linkage.matching.kernels splits
 * the rows of A over a thread pool).
 *
 * Exactness contract (shared with kernels.py and reference.py):
 *   c = popcount(a & b), s = pa + pb
 *   dice    = 2.0 * c / s        (0.0 when s == 0)
 *   jaccard = c / (s - c)        (0.0 when s - c == 0)
 *   a pair passes a threshold t iff score >= t, compared in IEEE double.
 * The pass test uses cmin[s], the smallest c whose double score reaches t (computed by
 * kernels.py; exact because the double score is monotone in c for a fixed s). A float32
 * prefilter c >= alpha * s, with alpha rounded *down* by 2^-20 relative, only discards
 * pairs that provably fail, so it never changes a result.
 *
 * CPU paths, chosen per call by the caller (runtime dispatch, nothing built with
 * -march=native):
 *   avx512   AVX-512 VPOPCNTDQ (Ice Lake / Sapphire Rapids / Zen 4)
 *   avx2     vpshufb nibble-lookup popcount (Mula, Kurz, Lemire) on tiles of B split into
 *            nibbles once per tile, 8 B rows per pass
 *   popcnt   scalar popcnt instruction
 *   portable plain C (SWAR popcount on x86, the compiler builtin elsewhere)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* -DCDICE_NO_SIMD builds only the portable path (what non-x86 targets get). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(CDICE_NO_SIMD)
#define CD_X86 1
#include <immintrin.h>
#else
#define CD_X86 0
#endif

enum { PATH_PORTABLE = 0, PATH_POPCNT = 1, PATH_AVX2 = 2, PATH_AVX512 = 3, N_PATHS = 4 };
static const char *const PATH_NAMES[N_PATHS] = {"portable", "popcnt", "avx2", "avx512"};

enum { METRIC_DICE = 0, METRIC_JACCARD = 1 };

/* popcount(a & b) of one pair of rows. */
typedef uint32_t (*count_pair_fn)(const uint64_t *a, const uint64_t *b, size_t w);

/* Compare row a with nb consecutive rows of b (as prepared by the kernel's prep_tile, if
 * it has one); for every j whose count c passes the float prefilter
 * (float)c >= alpha * (paf + pbf[j]) (or an equivalent test), store j and c. Returns how
 * many were stored (at most nb), in increasing j. */
typedef size_t (*row_tile_fn)(const uint64_t *a, const uint64_t *b, size_t nb, size_t w,
                              const float *pbf, float paf, float alpha, uint32_t *cand_j,
                              uint32_t *cand_c);

/* Optional per-tile preparation of nb rows of b into out (prep_stride(w) words a row); when
 * a kernel has one, its row_tile reads prepared rows instead of raw ones. */
typedef void (*prep_tile_fn)(const uint64_t *b, size_t nb, size_t w, uint64_t *out);
typedef size_t (*prep_stride_fn)(size_t w);

typedef struct {
    count_pair_fn count_pair;
    row_tile_fn row_tile;
    prep_tile_fn prep_tile;     /* NULL: row_tile reads rows of b as they are */
    prep_stride_fn prep_stride;
} kernel;

/* ---------------------------------------------------------------------------------------
 * Scalar paths. Each kernel compares row a with groups of rows of b (sharing the loads of
 * a) and is instantiated for a few common widths (1024-bit filters are w = 16) so the
 * compiler unrolls the word loop; other widths take the generic loop.
 * ------------------------------------------------------------------------------------- */

#if defined(__GNUC__)
#define CD_INLINE static inline __attribute__((always_inline))
#else
#define CD_INLINE static inline
#endif

/* Call BODY(width) with a compile-time width for the common filter lengths. */
#define CD_DISPATCH_WIDTH(w, CALL) \
    switch (w) {                   \
    case 4: return CALL(4);        \
    case 8: return CALL(8);        \
    case 16: return CALL(16);      \
    case 32: return CALL(32);      \
    default: return CALL(w);       \
    }

CD_INLINE uint32_t pop_portable(uint64_t x)
{
#if CD_X86
    /* Without a target attribute gcc would call libgcc for __builtin_popcountll. */
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
#elif defined(__GNUC__)
    return (uint32_t)__builtin_popcountll(x);
#else
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
#endif
}

#define DEFINE_SCALAR_PATH(NAME, ATTR, POP)                                                  \
    ATTR static uint32_t count_pair_##NAME(const uint64_t *a, const uint64_t *b, size_t w)  \
    {                                                                                       \
        uint32_t c0 = 0, c1 = 0;                                                            \
        size_t k = 0;                                                                       \
        for (; k + 2 <= w; k += 2) {                                                        \
            c0 += POP(a[k] & b[k]);                                                         \
            c1 += POP(a[k + 1] & b[k + 1]);                                                 \
        }                                                                                   \
        if (k < w) c0 += POP(a[k] & b[k]);                                                  \
        return c0 + c1;                                                                     \
    }                                                                                       \
    ATTR CD_INLINE size_t tile_##NAME(const uint64_t *a, const uint64_t *b, size_t nb,      \
                                      const size_t w, const float *pbf, float paf,          \
                                      float alpha, uint32_t *cand_j, uint32_t *cand_c)      \
    {                                                                                       \
        size_t nc = 0, j = 0;                                                               \
        for (; j + 4 <= nb; j += 4) {                                                       \
            const uint64_t *b0 = b + j * w;                                                 \
            uint32_t c[4] = {0, 0, 0, 0};                                                   \
            for (size_t k = 0; k < w; k++) {                                                \
                const uint64_t x = a[k];                                                    \
                c[0] += POP(x & b0[k]);                                                     \
                c[1] += POP(x & b0[w + k]);                                                 \
                c[2] += POP(x & b0[2 * w + k]);                                             \
                c[3] += POP(x & b0[3 * w + k]);                                             \
            }                                                                               \
            for (size_t r = 0; r < 4; r++)                                                  \
                if ((float)c[r] >= alpha * (paf + pbf[j + r])) {                            \
                    cand_j[nc] = (uint32_t)(j + r);                                         \
                    cand_c[nc] = c[r];                                                      \
                    nc++;                                                                   \
                }                                                                           \
        }                                                                                   \
        for (; j < nb; j++) {                                                               \
            const uint32_t c = count_pair_##NAME(a, b + j * w, w);                          \
            if ((float)c >= alpha * (paf + pbf[j])) {                                       \
                cand_j[nc] = (uint32_t)j;                                                   \
                cand_c[nc] = c;                                                             \
                nc++;                                                                       \
            }                                                                               \
        }                                                                                   \
        return nc;                                                                          \
    }                                                                                       \
    ATTR static size_t row_tile_##NAME(const uint64_t *a, const uint64_t *b, size_t nb,     \
                                       size_t w, const float *pbf, float paf, float alpha,  \
                                       uint32_t *cand_j, uint32_t *cand_c)                  \
    {                                                                                       \
        CD_DISPATCH_WIDTH(w, CALL_TILE_##NAME)                                              \
    }

#define CALL_TILE_portable(W) tile_portable(a, b, nb, (W), pbf, paf, alpha, cand_j, cand_c)
DEFINE_SCALAR_PATH(portable, , pop_portable)

#if CD_X86
#define T_POPCNT __attribute__((target("popcnt")))
#define POP_HW(x) ((uint32_t)__builtin_popcountll(x))
#define CALL_TILE_popcnt(W) tile_popcnt(a, b, nb, (W), pbf, paf, alpha, cand_j, cand_c)
DEFINE_SCALAR_PATH(popcnt, T_POPCNT, POP_HW)

/* Store the counts of the rows of a group whose bit is set in mask as candidates. */
CD_INLINE size_t emit_mask(unsigned mask, const uint32_t *cs, size_t j, uint32_t *cand_j,
                           uint32_t *cand_c, size_t nc)
{
    while (mask) {
        const unsigned r = (unsigned)__builtin_ctz(mask);
        cand_j[nc] = (uint32_t)(j + r);
        cand_c[nc] = cs[r];
        nc++;
        mask &= mask - 1u;
    }
    return nc;
}

/* ---------------------------------------------------------------------------------------
 * AVX2: nibble lookup with vpshufb (Mula, Kurz, Lemire). The rows of each tile of B are split
 * into nibbles once (prep_tile_avx2) and shared by every row of A that meets the tile, which
 * leaves 2 ANDs, 2 lookups and 2 byte adds per 256-bit chunk and pair. Eight rows of B per
 * pass share each load of A; their sums are packed into one vector of 8 counts and tested
 * against the prefilter bound in integers.
 * ------------------------------------------------------------------------------------- */
#if defined(__clang__) || !defined(__GNUC__)
#define T_AVX2 __attribute__((target("avx2,popcnt")))
#else
/* gcc: the pre-allocation scheduler is off by default on x86, and the fully unrolled pass
 * over 8 rows then keeps far more lookups live than there are ymm registers (gcc 12 spilled
 * a third of them to the stack); scheduling with register pressure in mind removes the
 * spills: about 1.3x faster on Zen 3 for 1024-bit filters. */
#define T_AVX2 __attribute__((target("avx2,popcnt"), optimize("schedule-insns", "sched-pressure")))
#endif

#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(p))
#define MLOAD256(p, m) _mm256_maskload_epi64((const long long *)(p), (m))

/* Prepared rows: the nibbles of each row of b, split once per tile and shared by every row
 * of a that meets the tile. A prepared row is nch = ceil(w / 4) chunks of b & 0x0f..
 * followed by nch chunks of (b >> 4) & 0x0f.., the tail chunk zero-padded. Then the
 * nibbles of a & b are lo[k] & a and hi[k] & (a >> 4) (the masks are already in lo and hi,
 * and the shift of a is shared by the rows of a pass): 2 ANDs, 2 lookups and the adds per
 * chunk and row, nothing else. Preparing costs a few ops per chunk once per tile and row
 * block (256 rows of A), and the prepared tile is twice the size of the raw one. */
static size_t prep_stride_avx2(size_t w) { return 8 * ((w + 3) / 4); }

T_AVX2 static void prep_tile_avx2(const uint64_t *b, size_t nb, size_t w, uint64_t *out)
{
    const __m256i low = _mm256_set1_epi8(0x0f);
    const size_t w4 = w / 4, rem = w % 4, nch = (w + 3) / 4;
    const __m256i m = _mm256_setr_epi64x(-1, rem > 1 ? -1 : 0, rem > 2 ? -1 : 0, 0);
    for (size_t r = 0; r < nb; r++, b += w, out += 8 * nch) {
        for (size_t k = 0; k < nch; k++) {
            const __m256i v = k < w4 ? LOAD256(b + 4 * k) : MLOAD256(b + 4 * k, m);
            _mm256_storeu_si256((__m256i *)(out + 4 * k), _mm256_and_si256(v, low));
            _mm256_storeu_si256((__m256i *)(out + 4 * (nch + k)),
                                _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
        }
    }
}

/* 4x64-bit partial sums of popcount(a & b_r) for nr (4 or 8) prepared rows p[r]: per
 * 256-bit chunk, the lookups of lo & a and hi & (a >> 4) are added into byte counters,
 * flushed with vpsadbw every 31 chunks (a byte gains at most 8 per chunk). Prepared rows
 * are zero-padded, so only a needs a masked load for the tail chunk. */
T_AVX2 CD_INLINE void sums_avx2(const uint64_t *a, const uint64_t *const *p, const int nr,
                                const size_t w, __m256i *s)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1,
                                         1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i zero = _mm256_setzero_si256();
    const size_t w4 = w / 4, rem = w % 4, nch = (w + 3) / 4;
    for (int r = 0; r < nr; r++) s[r] = zero;
    for (size_t k0 = 0; k0 < nch; k0 += 31) {
        const size_t k1 = (nch - k0 > 31) ? k0 + 31 : nch;
        __m256i c[8];
        for (int r = 0; r < nr; r++) c[r] = zero;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
        for (size_t k = k0; k < k1; k++) {
            __m256i av;
            if (k < w4) {
                av = LOAD256(a + 4 * k);
            } else {
                const __m256i m = _mm256_setr_epi64x(-1, rem > 1 ? -1 : 0, rem > 2 ? -1 : 0, 0);
                av = MLOAD256(a + 4 * k, m);
            }
            const __m256i ah = _mm256_srli_epi16(av, 4);
            for (int r = 0; r < nr; r++) {
                const __m256i x =
                    _mm256_shuffle_epi8(lut, _mm256_and_si256(av, LOAD256(p[r] + 4 * k)));
                const __m256i y =
                    _mm256_shuffle_epi8(lut, _mm256_and_si256(ah, LOAD256(p[r] + 4 * (nch + k))));
                c[r] = _mm256_add_epi8(c[r], _mm256_add_epi8(x, y));
            }
        }
        for (int r = 0; r < nr; r++) s[r] = _mm256_add_epi64(s[r], _mm256_sad_epu8(c[r], zero));
    }
}

/* Up to this many chunks the lane sums (<= 64 per chunk) fit in a signed 16-bit word. */
#ifndef CD_PACK_MAXCH
#define CD_PACK_MAXCH 255
#endif

/* Four 4x64-bit sums (rows 0..3) -> one vector of the four totals. */
T_AVX2 CD_INLINE __m128i reduce4_avx2(const __m256i *s, const size_t w)
{
    if ((w + 3) / 4 <= CD_PACK_MAXCH) {
        /* lane sums are <= 64 nch < 2^15: pack the 16 lanes into words (three vpackusdw),
         * add word pairs with vpmaddwd, then the two 128-bit halves */
        const __m256i p = _mm256_packus_epi32(_mm256_packus_epi32(s[0], s[1]),
                                              _mm256_packus_epi32(s[2], s[3]));
        const __m256i u = _mm256_madd_epi16(p, _mm256_set1_epi16(1));
        return _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
    }
    /* lane sums are < 2^32: pack rows (0,1) and (2,3) into 32-bit halves, then add the
     * four lanes */
    const __m256i t0 = _mm256_or_si256(s[0], _mm256_slli_epi64(s[1], 32));
    const __m256i t1 = _mm256_or_si256(s[2], _mm256_slli_epi64(s[3], 32));
    const __m256i u = _mm256_add_epi32(_mm256_unpacklo_epi64(t0, t1),
                                       _mm256_unpackhi_epi64(t0, t1));
    return _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
}

/* Eight 4x64-bit sums (rows 0..7) -> one vector of the eight totals. */
T_AVX2 CD_INLINE __m256i reduce8_avx2(const __m256i *s, const size_t w)
{
    if ((w + 3) / 4 <= CD_PACK_MAXCH) {
        const __m256i one = _mm256_set1_epi16(1);
        const __m256i u0 = _mm256_madd_epi16(
            _mm256_packus_epi32(_mm256_packus_epi32(s[0], s[1]), _mm256_packus_epi32(s[2], s[3])),
            one);
        const __m256i u1 = _mm256_madd_epi16(
            _mm256_packus_epi32(_mm256_packus_epi32(s[4], s[5]), _mm256_packus_epi32(s[6], s[7])),
            one);
        return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                                _mm256_permute2x128_si256(u0, u1, 0x31));
    }
    return _mm256_inserti128_si256(_mm256_castsi128_si256(reduce4_avx2(s, w)),
                                   reduce4_avx2(s + 4, w), 1);
}

/* Integer form of the float prefilter: for an integer count c, c >= bound is exactly
 * c >= ceil(bound), i.e. c > ceil(bound) - 1 (the same pairs as (float)c >= bound while
 * counts are below 2^24, and a valid prefilter beyond: it still keeps every c >= bound).
 * The bound is clamped to 2^30 so that the conversion cannot overflow (a NaN bound becomes
 * 2^30 too and, like the float test, keeps nothing). This keeps the int->float conversion
 * and the float compare off the path from the counts to the branch. */
T_AVX2 CD_INLINE __m128i int_bound4_avx2(__m128 va, __m128 vpa, __m128 pb)
{
    const __m128 bound = _mm_min_ps(_mm_ceil_ps(_mm_mul_ps(va, _mm_add_ps(vpa, pb))),
                                    _mm_set1_ps(1073741824.0f));
    return _mm_sub_epi32(_mm_cvtps_epi32(bound), _mm_set1_epi32(1));
}

T_AVX2 CD_INLINE __m256i int_bound8_avx2(__m256 va, __m256 vpa, __m256 pb)
{
    const __m256 bound = _mm256_min_ps(_mm256_ceil_ps(_mm256_mul_ps(va, _mm256_add_ps(vpa, pb))),
                                       _mm256_set1_ps(1073741824.0f));
    return _mm256_sub_epi32(_mm256_cvtps_epi32(bound), _mm256_set1_epi32(1));
}

/* b: nb prepared rows (prep_tile_avx2), compared 8 at a time, then 4, then the last 1..3
 * (the first repeated, the rest masked away) */
T_AVX2 CD_INLINE size_t tile_avx2(const uint64_t *a, const uint64_t *b, size_t nb, const size_t w,
                                  const float *pbf, float paf, float alpha, uint32_t *cand_j,
                                  uint32_t *cand_c)
{
    const size_t ps = 8 * ((w + 3) / 4);
    __m256i s[8];
    uint32_t cs[8];
    size_t nc = 0, j = 0;
    {
        const __m256 va = _mm256_set1_ps(alpha), vpa = _mm256_set1_ps(paf);
        for (; j + 8 <= nb; j += 8) {
            const uint64_t *b0 = b + j * ps;
            const uint64_t *const p[8] = {b0,          b0 + ps,     b0 + 2 * ps, b0 + 3 * ps,
                                          b0 + 4 * ps, b0 + 5 * ps, b0 + 6 * ps, b0 + 7 * ps};
            sums_avx2(a, p, 8, w, s);
            const __m256i cnt = reduce8_avx2(s, w);
            const __m256i lim = int_bound8_avx2(va, vpa, _mm256_loadu_ps(pbf + j));
            const unsigned mask = (unsigned)_mm256_movemask_ps(
                _mm256_castsi256_ps(_mm256_cmpgt_epi32(cnt, lim)));
            if (mask) {
                _mm256_storeu_si256((__m256i *)cs, cnt);
                nc = emit_mask(mask, cs, j, cand_j, cand_c, nc);
            }
        }
    }
    const __m128 va = _mm_set1_ps(alpha), vpa = _mm_set1_ps(paf);
    while (j < nb) {
        const size_t left = nb - j < 4 ? nb - j : 4;
        const uint64_t *b0 = b + j * ps;
        const uint64_t *const p[4] = {b0, left > 1 ? b0 + ps : b0, left > 2 ? b0 + 2 * ps : b0,
                                      left > 3 ? b0 + 3 * ps : b0};
        sums_avx2(a, p, 4, w, s);
        const __m128i cnt = reduce4_avx2(s, w);
        float pt[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(pt, pbf + j, left * sizeof(float));
        const __m128i lim = int_bound4_avx2(va, vpa, _mm_loadu_ps(pt));
        const unsigned mask =
            (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(cnt, lim))) &
            ((1u << left) - 1u);
        if (mask) {
            _mm_storeu_si128((__m128i *)cs, cnt);
            nc = emit_mask(mask, cs, j, cand_j, cand_c, nc);
        }
        j += left;
    }
    return nc;
}

#define CALL_TILE_avx2(W) tile_avx2(a, b, nb, (W), pbf, paf, alpha, cand_j, cand_c)
T_AVX2 static size_t row_tile_avx2(const uint64_t *a, const uint64_t *b, size_t nb, size_t w,
                                   const float *pbf, float paf, float alpha, uint32_t *cand_j,
                                   uint32_t *cand_c)
{
    CD_DISPATCH_WIDTH(w, CALL_TILE_avx2)
}

/* ---------------------------------------------------------------------------------------
 * AVX-512 VPOPCNTDQ: eight rows of B per pass, 512-bit chunks, a masked load for the tail
 * words, the eight 8x64-bit sums transposed into one vector of 8 counts.
 * ------------------------------------------------------------------------------------- */
#define T_AVX512 \
    __attribute__((target("avx512f,avx512vpopcntdq,avx512vl,avx512bw,avx512dq,avx2,popcnt")))

#define LOAD512(p) _mm512_loadu_si512((const void *)(p))
#define MLOAD512(p, m) _mm512_maskz_loadu_epi64((m), (const void *)(p))
#define ANDPOP512(x, y) _mm512_popcnt_epi64(_mm512_and_si512((x), (y)))

T_AVX512 CD_INLINE __m256i group8_avx512(const uint64_t *a, const uint64_t *const r[8],
                                         const size_t w)
{
    const size_t w8 = w / 8, rem = w % 8;
    __m512i s0, s1, s2, s3, s4, s5, s6, s7;
    if (w8 > 0) {
        const __m512i av = LOAD512(a);
        s0 = ANDPOP512(av, LOAD512(r[0]));
        s1 = ANDPOP512(av, LOAD512(r[1]));
        s2 = ANDPOP512(av, LOAD512(r[2]));
        s3 = ANDPOP512(av, LOAD512(r[3]));
        s4 = ANDPOP512(av, LOAD512(r[4]));
        s5 = ANDPOP512(av, LOAD512(r[5]));
        s6 = ANDPOP512(av, LOAD512(r[6]));
        s7 = ANDPOP512(av, LOAD512(r[7]));
    } else {
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = _mm512_setzero_si512();
    }
    for (size_t k = 1; k < w8; k++) {
        const size_t o = 8 * k;
        const __m512i av = LOAD512(a + o);
        s0 = _mm512_add_epi64(s0, ANDPOP512(av, LOAD512(r[0] + o)));
        s1 = _mm512_add_epi64(s1, ANDPOP512(av, LOAD512(r[1] + o)));
        s2 = _mm512_add_epi64(s2, ANDPOP512(av, LOAD512(r[2] + o)));
        s3 = _mm512_add_epi64(s3, ANDPOP512(av, LOAD512(r[3] + o)));
        s4 = _mm512_add_epi64(s4, ANDPOP512(av, LOAD512(r[4] + o)));
        s5 = _mm512_add_epi64(s5, ANDPOP512(av, LOAD512(r[5] + o)));
        s6 = _mm512_add_epi64(s6, ANDPOP512(av, LOAD512(r[6] + o)));
        s7 = _mm512_add_epi64(s7, ANDPOP512(av, LOAD512(r[7] + o)));
    }
    if (rem) {
        const size_t o = 8 * w8;
        const __mmask8 m = (__mmask8)((1u << rem) - 1u);
        const __m512i av = MLOAD512(a + o, m);
        s0 = _mm512_add_epi64(s0, ANDPOP512(av, MLOAD512(r[0] + o, m)));
        s1 = _mm512_add_epi64(s1, ANDPOP512(av, MLOAD512(r[1] + o, m)));
        s2 = _mm512_add_epi64(s2, ANDPOP512(av, MLOAD512(r[2] + o, m)));
        s3 = _mm512_add_epi64(s3, ANDPOP512(av, MLOAD512(r[3] + o, m)));
        s4 = _mm512_add_epi64(s4, ANDPOP512(av, MLOAD512(r[4] + o, m)));
        s5 = _mm512_add_epi64(s5, ANDPOP512(av, MLOAD512(r[5] + o, m)));
        s6 = _mm512_add_epi64(s6, ANDPOP512(av, MLOAD512(r[6] + o, m)));
        s7 = _mm512_add_epi64(s7, ANDPOP512(av, MLOAD512(r[7] + o, m)));
    }
    /* pack pairs of rows into 32-bit halves, add lanes within 128-bit blocks, then add
     * the four blocks: dwords 0..3 of block 0 / block 2 are rows 0..3 / 4..7 */
    const __m512i t0 = _mm512_or_si512(s0, _mm512_slli_epi64(s1, 32));
    const __m512i t1 = _mm512_or_si512(s2, _mm512_slli_epi64(s3, 32));
    const __m512i t2 = _mm512_or_si512(s4, _mm512_slli_epi64(s5, 32));
    const __m512i t3 = _mm512_or_si512(s6, _mm512_slli_epi64(s7, 32));
    const __m512i u0 = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1),
                                        _mm512_unpackhi_epi64(t0, t1));
    const __m512i u1 = _mm512_add_epi32(_mm512_unpacklo_epi64(t2, t3),
                                        _mm512_unpackhi_epi64(t2, t3));
    const __m512i v = _mm512_add_epi32(_mm512_shuffle_i64x2(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)),
                                       _mm512_shuffle_i64x2(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i x = _mm512_add_epi32(v, _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_castsi512_si256(_mm512_shuffle_i64x2(x, x, _MM_SHUFFLE(0, 0, 2, 0)));
}

T_AVX512 CD_INLINE size_t tile_avx512(const uint64_t *a, const uint64_t *b, size_t nb,
                                      const size_t w, const float *pbf, float paf, float alpha,
                                      uint32_t *cand_j, uint32_t *cand_c)
{
    const __m256 va = _mm256_set1_ps(alpha), vpa = _mm256_set1_ps(paf);
    uint32_t cs[8];
    size_t nc = 0, j = 0;
    for (; j + 8 <= nb; j += 8) {
        const uint64_t *b0 = b + j * w;
        const uint64_t *const r[8] = {b0, b0 + w, b0 + 2 * w, b0 + 3 * w,
                                      b0 + 4 * w, b0 + 5 * w, b0 + 6 * w, b0 + 7 * w};
        const __m256i cnt = group8_avx512(a, r, w);
        const __m256 bound = _mm256_mul_ps(va, _mm256_add_ps(vpa, _mm256_loadu_ps(pbf + j)));
        const unsigned mask =
            (unsigned)_mm256_cmp_ps_mask(_mm256_cvtepi32_ps(cnt), bound, _CMP_GE_OQ);
        if (mask) {
            _mm256_storeu_si256((__m256i *)cs, cnt);
            nc = emit_mask(mask, cs, j, cand_j, cand_c, nc);
        }
    }
    if (j < nb) { /* last 1..7 rows: repeat the first one and mask the rest away */
        const size_t left = nb - j;
        const __mmask8 lm = (__mmask8)((1u << left) - 1u);
        const uint64_t *b0 = b + j * w;
        const uint64_t *r[8];
        for (size_t q = 0; q < 8; q++) r[q] = q < left ? b0 + q * w : b0;
        const __m256i cnt = group8_avx512(a, r, w);
        const __m256 bound =
            _mm256_mul_ps(va, _mm256_add_ps(vpa, _mm256_maskz_loadu_ps(lm, pbf + j)));
        const unsigned mask =
            (unsigned)_mm256_mask_cmp_ps_mask(lm, _mm256_cvtepi32_ps(cnt), bound, _CMP_GE_OQ);
        _mm256_storeu_si256((__m256i *)cs, cnt);
        nc = emit_mask(mask, cs, j, cand_j, cand_c, nc);
    }
    return nc;
}

#define CALL_TILE_avx512(W) tile_avx512(a, b, nb, (W), pbf, paf, alpha, cand_j, cand_c)
T_AVX512 static size_t row_tile_avx512(const uint64_t *a, const uint64_t *b, size_t nb,
                                       size_t w, const float *pbf, float paf, float alpha,
                                       uint32_t *cand_j, uint32_t *cand_c)
{
    CD_DISPATCH_WIDTH(w, CALL_TILE_avx512)
}

T_AVX512 static uint32_t count_pair_avx512(const uint64_t *a, const uint64_t *b, size_t w)
{
    __m512i s = _mm512_setzero_si512();
    size_t k = 0;
    for (; k + 8 <= w; k += 8)
        s = _mm512_add_epi64(s, ANDPOP512(LOAD512(a + k), LOAD512(b + k)));
    if (k < w) {
        const __mmask8 m = (__mmask8)((1u << (w - k)) - 1u);
        s = _mm512_add_epi64(s, ANDPOP512(MLOAD512(a + k, m), MLOAD512(b + k, m)));
    }
    return (uint32_t)_mm512_reduce_add_epi64(s);
}
#endif /* CD_X86 */

static kernel kernel_for(int path)
{
    kernel k = {count_pair_portable, row_tile_portable, NULL, NULL};
#if CD_X86
    if (path == PATH_POPCNT) {
        k.count_pair = count_pair_popcnt;
        k.row_tile = row_tile_popcnt;
    } else if (path == PATH_AVX2) {
        k.count_pair = count_pair_popcnt; /* one pair: scalar popcnt is as fast */
        k.row_tile = row_tile_avx2;
        k.prep_tile = prep_tile_avx2;
        k.prep_stride = prep_stride_avx2;
    } else if (path == PATH_AVX512) {
        k.count_pair = count_pair_avx512;
        k.row_tile = row_tile_avx512;
    }
#endif
    return k;
}

static int path_supported(int path)
{
    if (path == PATH_PORTABLE) return 1;
#if CD_X86
    __builtin_cpu_init();
    switch (path) {
    case PATH_POPCNT:
        return __builtin_cpu_supports("popcnt") != 0;
    case PATH_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    case PATH_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("popcnt");
    default:
        return 0;
    }
#else
    return 0;
#endif
}

/* ---------------------------------------------------------------------------------------
 * Scores and the pass test
 * ------------------------------------------------------------------------------------- */

static inline double score_of(int metric, uint32_t c, uint32_t s)
{
    if (metric == METRIC_DICE) return s ? 2.0 * (double)c / (double)s : 0.0;
    const uint32_t u = s - c;
    return u ? (double)c / (double)u : 0.0;
}

/* Float prefilter slope: a pair can reach score t only if c >= alpha * s (see the header). */
static float alpha_for(int metric, double t)
{
    if (!(t > 0.0)) return -1.0f; /* every pair can pass */
    double al = metric == METRIC_DICE ? t * 0.5 : t / (1.0 + t);
    al *= 1.0 - 1.0 / 1048576.0;
    return (float)al;
}

/* ---------------------------------------------------------------------------------------
 * Growable result buffers
 * ------------------------------------------------------------------------------------- */

typedef struct {
    int64_t *i, *j;
    double *s;
    size_t n, cap;
} pairbuf;

static void pairbuf_free(pairbuf *o)
{
    free(o->i);
    free(o->j);
    free(o->s);
    o->i = o->j = NULL;
    o->s = NULL;
    o->n = o->cap = 0;
}

static int pairbuf_reserve(pairbuf *o, size_t extra)
{
    if (o->n + extra <= o->cap) return 0;
    size_t cap = o->cap ? o->cap : 1024;
    while (cap < o->n + extra) cap *= 2;
    int64_t *ni = realloc(o->i, cap * sizeof(int64_t));
    if (!ni) return -1;
    o->i = ni;
    int64_t *nj = realloc(o->j, cap * sizeof(int64_t));
    if (!nj) return -1;
    o->j = nj;
    double *ns = realloc(o->s, cap * sizeof(double));
    if (!ns) return -1;
    o->s = ns;
    o->cap = cap;
    return 0;
}

static inline void pairbuf_push(pairbuf *o, int64_t i, int64_t j, double s)
{
    o->i[o->n] = i;
    o->j[o->n] = j;
    o->s[o->n] = s;
    o->n++;
}

/* Stable counting sort of entries [start, n) by row i in [i0, i0 + nrows): within a row the
 * entries are already in increasing j (tiles are visited in order). */
static int sort_block_by_row(pairbuf *o, size_t start, size_t i0, size_t nrows)
{
    const size_t len = o->n - start;
    int sorted = 1;
    for (size_t q = start + 1; q < o->n; q++)
        if (o->i[q] < o->i[q - 1]) {
            sorted = 0;
            break;
        }
    if (sorted) return 0;
    size_t *pos = calloc(nrows + 1, sizeof(size_t));
    int64_t *ti = malloc(len * sizeof(int64_t));
    int64_t *tj = malloc(len * sizeof(int64_t));
    double *ts = malloc(len * sizeof(double));
    if (!pos || !ti || !tj || !ts) {
        free(pos);
        free(ti);
        free(tj);
        free(ts);
        return -1;
    }
    for (size_t q = start; q < o->n; q++) pos[(size_t)o->i[q] - i0 + 1]++;
    for (size_t r = 0; r < nrows; r++) pos[r + 1] += pos[r];
    for (size_t q = start; q < o->n; q++) {
        const size_t d = pos[(size_t)o->i[q] - i0]++;
        ti[d] = o->i[q];
        tj[d] = o->j[q];
        ts[d] = o->s[q];
    }
    memcpy(o->i + start, ti, len * sizeof(int64_t));
    memcpy(o->j + start, tj, len * sizeof(int64_t));
    memcpy(o->s + start, ts, len * sizeof(double));
    free(pos);
    free(ti);
    free(tj);
    free(ts);
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Mode 1: all pairs with score >= t, rows [i0, i1) of A against B
 * ------------------------------------------------------------------------------------- */

typedef struct {
    kernel K;
    const uint64_t *a, *b;
    const uint32_t *pa, *pb;
    const float *pbf;
    const int32_t *cmin;
    size_t m, w, i0, i1, row_block, col_tile;
    int metric, self_join;
} job;

/* The rows of a tile of B as the kernel reads them: the rows themselves, or (for a kernel
 * with prep_tile) a copy prepared once per tile and shared by every row of the A block. */
typedef struct {
    uint64_t *buf; /* NULL when the kernel reads raw rows */
    size_t stride; /* words per row as read */
} tile_buf;

static int tile_buf_init(tile_buf *t, const kernel *K, size_t w, size_t rows)
{
    t->buf = NULL;
    t->stride = w;
    if (!K->prep_tile) return 0;
    t->stride = K->prep_stride(w);
    if (rows && t->stride > (size_t)-1 / sizeof(uint64_t) / rows) return -1;
    t->buf = malloc(rows ? rows * t->stride * sizeof(uint64_t) : 1);
    return t->buf ? 0 : -1;
}

static const uint64_t *tile_rows(const tile_buf *t, const kernel *K, const uint64_t *b,
                                 size_t jt, size_t je, size_t w)
{
    if (!t->buf) return b + jt * w;
    K->prep_tile(b + jt * w, je - jt, w, t->buf);
    return t->buf;
}

static int run_threshold(const job *J, float alpha, pairbuf *out)
{
    const size_t w = J->w, m = J->m, tb = J->col_tile;
    uint32_t *cj = malloc(tb * sizeof(uint32_t));
    uint32_t *cc = malloc(tb * sizeof(uint32_t));
    tile_buf tbuf = {NULL, 0};
    if (!cj || !cc || tile_buf_init(&tbuf, &J->K, w, tb < m ? tb : m)) goto oom;
    for (size_t ib = J->i0; ib < J->i1; ib += J->row_block) {
        const size_t ie = ib + J->row_block < J->i1 ? ib + J->row_block : J->i1;
        const size_t start = out->n;
        for (size_t jt = J->self_join ? ib + 1 : 0; jt < m; jt += tb) {
            const size_t je = jt + tb < m ? jt + tb : m;
            const uint64_t *bt = tile_rows(&tbuf, &J->K, J->b, jt, je, w);
            for (size_t i = ib; i < ie; i++) {
                const size_t j0 = (J->self_join && i + 1 > jt) ? i + 1 : jt;
                if (j0 >= je) continue;
                const uint32_t pai = J->pa[i];
                const size_t nc = J->K.row_tile(J->a + i * w, bt + (j0 - jt) * tbuf.stride, je - j0, w,
                                                J->pbf + j0, (float)pai, alpha, cj, cc);
                if (!nc) continue;
                if (pairbuf_reserve(out, nc)) goto oom;
                for (size_t q = 0; q < nc; q++) {
                    const size_t j = j0 + cj[q];
                    const uint32_t s = pai + J->pb[j];
                    if ((int64_t)cc[q] >= (int64_t)J->cmin[s])
                        pairbuf_push(out, (int64_t)i, (int64_t)j, score_of(J->metric, cc[q], s));
                }
            }
        }
        if (sort_block_by_row(out, start, ib, ie - ib)) goto oom;
    }
    free(cj);
    free(cc);
    free(tbuf.buf);
    return 0;
oom:
    free(cj);
    free(cc);
    free(tbuf.buf);
    return -1;
}

/* ---------------------------------------------------------------------------------------
 * Mode 2: best k per row (score desc, then lower j), each >= t
 * ------------------------------------------------------------------------------------- */

typedef struct {
    double s;
    int64_t j;
} entry;

/* x ranks below y: lower score, or equal score and higher j */
static inline int worse(entry x, entry y) { return x.s < y.s || (x.s == y.s && x.j > y.j); }

/* min-heap on rank: h[0] is the entry that would be dropped first */
static void heap_offer(entry *h, size_t *n, size_t k, entry e)
{
    size_t q;
    if (*n < k) {
        q = (*n)++;
        while (q > 0) {
            const size_t p = (q - 1) / 2;
            if (!worse(e, h[p])) break;
            h[q] = h[p];
            q = p;
        }
        h[q] = e;
        return;
    }
    if (!worse(h[0], e)) return;
    q = 0;
    for (;;) {
        size_t c = 2 * q + 1;
        if (c >= k) break;
        if (c + 1 < k && worse(h[c + 1], h[c])) c++;
        if (!worse(h[c], e)) break;
        h[q] = h[c];
        q = c;
    }
    h[q] = e;
}

static int cmp_entry_j(const void *x, const void *y)
{
    const int64_t a = ((const entry *)x)->j, b = ((const entry *)y)->j;
    return (a > b) - (a < b);
}

static int run_topk(const job *J, size_t k, double t, pairbuf *out)
{
    const size_t w = J->w, m = J->m, tb = J->col_tile, rb = J->row_block;
    const float alpha_t = alpha_for(J->metric, t);
    uint32_t *cj = malloc(tb * sizeof(uint32_t));
    uint32_t *cc = malloc(tb * sizeof(uint32_t));
    entry *heaps = malloc(rb * k * sizeof(entry));
    size_t *hn = malloc(rb * sizeof(size_t));
    float *alpha = malloc(rb * sizeof(float));
    tile_buf tbuf = {NULL, 0};
    if (!cj || !cc || !heaps || !hn || !alpha || tile_buf_init(&tbuf, &J->K, w, tb < m ? tb : m))
        goto oom;
    for (size_t ib = J->i0; ib < J->i1; ib += rb) {
        const size_t ie = ib + rb < J->i1 ? ib + rb : J->i1;
        for (size_t r = 0; r < ie - ib; r++) {
            hn[r] = 0;
            alpha[r] = alpha_t;
        }
        for (size_t jt = 0; jt < m; jt += tb) {
            const size_t je = jt + tb < m ? jt + tb : m;
            const uint64_t *bt = tile_rows(&tbuf, &J->K, J->b, jt, je, w);
            for (size_t i = ib; i < ie; i++) {
                const size_t r = i - ib;
                entry *h = heaps + r * k;
                const uint32_t pai = J->pa[i];
                /* a self-join skips the record itself: segments [jt, i) and [i + 1, je) */
                size_t seg[2][2] = {{jt, je}, {je, je}};
                if (J->self_join && i >= jt && i < je) {
                    seg[0][1] = i;
                    seg[1][0] = i + 1;
                }
                for (int sgi = 0; sgi < 2; sgi++) {
                    const size_t j0 = seg[sgi][0], j1 = seg[sgi][1];
                    if (j0 >= j1) continue;
                    const size_t nc = J->K.row_tile(J->a + i * w, bt + (j0 - jt) * tbuf.stride, j1 - j0, w,
                                                    J->pbf + j0, (float)pai, alpha[r], cj, cc);
                    int changed = 0;
                    for (size_t q = 0; q < nc; q++) {
                        const size_t j = j0 + cj[q];
                        const uint32_t s = pai + J->pb[j];
                        if ((int64_t)cc[q] < (int64_t)J->cmin[s]) continue;
                        entry e = {score_of(J->metric, cc[q], s), (int64_t)j};
                        heap_offer(h, &hn[r], k, e);
                        changed = 1;
                    }
                    /* once the heap is full, a newcomer must beat its worst score */
                    if (changed && hn[r] == k) alpha[r] = alpha_for(J->metric, h[0].s);
                }
            }
        }
        size_t total = 0;
        for (size_t r = 0; r < ie - ib; r++) total += hn[r];
        if (pairbuf_reserve(out, total)) goto oom;
        for (size_t r = 0; r < ie - ib; r++) {
            entry *h = heaps + r * k;
            qsort(h, hn[r], sizeof(entry), cmp_entry_j);
            for (size_t q = 0; q < hn[r]; q++)
                pairbuf_push(out, (int64_t)(ib + r), h[q].j, h[q].s);
        }
    }
    free(cj);
    free(cc);
    free(heaps);
    free(hn);
    free(alpha);
    free(tbuf.buf);
    return 0;
oom:
    free(cj);
    free(cc);
    free(heaps);
    free(hn);
    free(alpha);
    free(tbuf.buf);
    return -1;
}

/* ---------------------------------------------------------------------------------------
 * Python glue
 * ------------------------------------------------------------------------------------- */

static int get_path(int path)
{
    if (path < 0 || path >= N_PATHS) {
        PyErr_Format(PyExc_ValueError, "unknown kernel path %d", path);
        return -1;
    }
    if (!path_supported(path)) {
        PyErr_Format(PyExc_ValueError, "kernel path %s is not supported by this CPU or build",
                     PATH_NAMES[path]);
        return -1;
    }
    return 0;
}

/* Check that a buffer holds at least count items of itemsize bytes. */
static int check_len(const Py_buffer *v, size_t count, size_t itemsize, const char *name)
{
    if ((size_t)v->len < count * itemsize) {
        PyErr_Format(PyExc_ValueError, "buffer %s is too small (%zd bytes, need %zu)", name,
                     v->len, count * itemsize);
        return -1;
    }
    return 0;
}

static PyObject *bytes_of(const void *p, size_t nbytes)
{
    return PyByteArray_FromStringAndSize(p ? (const char *)p : "", (Py_ssize_t)nbytes);
}

static PyObject *pairbuf_to_tuple(pairbuf *o)
{
    PyObject *bi = bytes_of(o->i, o->n * sizeof(int64_t));
    PyObject *bj = bi ? bytes_of(o->j, o->n * sizeof(int64_t)) : NULL;
    PyObject *bs = bj ? bytes_of(o->s, o->n * sizeof(double)) : NULL;
    if (!bs) {
        Py_XDECREF(bi);
        Py_XDECREF(bj);
        return NULL;
    }
    return Py_BuildValue("(NNN)", bi, bj, bs);
}

static void release_all(Py_buffer *views, int n)
{
    for (int q = 0; q < n; q++)
        if (views[q].obj) PyBuffer_Release(&views[q]);
}

/* Shared argument parsing of threshold() and topk(). */
static int parse_job(PyObject *args, job *J, Py_buffer v[6], double *t, Py_ssize_t *k)
{
    int path, metric, self_join;
    Py_ssize_t n, m, w, i0, i1, rb, tb;
    memset(v, 0, 6 * sizeof(Py_buffer));
    if (!PyArg_ParseTuple(args, "iy*y*y*y*y*y*nnnnnidpnnn", &path, &v[0], &v[1], &v[2], &v[3],
                          &v[4], &v[5], &n, &m, &w, &i0, &i1, &metric, t, &self_join, &rb,
                          &tb, k))
        return -1;
    if (get_path(path)) return -1;
    if (n < 0 || m < 0 || w < 0 || i0 < 0 || i1 < i0 || i1 > n || rb < 1 || tb < 1 || *k < 0 ||
        (metric != METRIC_DICE && metric != METRIC_JACCARD) || (self_join && n != m)) {
        PyErr_SetString(PyExc_ValueError, "invalid kernel arguments");
        return -1;
    }
    if (tb > 0xffffffffLL) tb = 0xffffffffLL;
    if (check_len(&v[0], (size_t)n * (size_t)w, 8, "a") || check_len(&v[1], (size_t)m * (size_t)w, 8, "b") ||
        check_len(&v[2], (size_t)n, 4, "pa") || check_len(&v[3], (size_t)m, 4, "pb") ||
        check_len(&v[4], (size_t)m, 4, "pbf") || check_len(&v[5], 128 * (size_t)w + 1, 4, "cmin"))
        return -1;
    /* popcounts index cmin: reject any that a filter of w words cannot have */
    const uint32_t *pa = v[2].buf, *pb = v[3].buf;
    for (Py_ssize_t q = 0; q < n; q++)
        if (pa[q] > 64 * (uint64_t)w) goto bad_pop;
    for (Py_ssize_t q = 0; q < m; q++)
        if (pb[q] > 64 * (uint64_t)w) goto bad_pop;
    J->K = kernel_for(path);
    J->a = v[0].buf;
    J->b = v[1].buf;
    J->pa = pa;
    J->pb = pb;
    J->pbf = v[4].buf;
    J->cmin = v[5].buf;
    J->m = (size_t)m;
    J->w = (size_t)w;
    J->i0 = (size_t)i0;
    J->i1 = (size_t)i1;
    J->row_block = (size_t)rb;
    J->col_tile = (size_t)tb;
    J->metric = metric;
    J->self_join = self_join;
    return 0;
bad_pop:
    PyErr_SetString(PyExc_ValueError, "popcount larger than the filter length");
    return -1;
}

PyDoc_STRVAR(threshold_doc,
             "threshold(path, a, b, pa, pb, pbf, cmin, n, m, w, i0, i1, metric, t, self_join, "
             "row_block, col_tile, unused) -> (i, j, score) bytearrays\n\n"
             "Pairs (i, j), i in [i0, i1), with score >= t, sorted by (i, j).");

static PyObject *py_threshold(PyObject *self, PyObject *args)
{
    (void)self;
    job J;
    Py_buffer v[6];
    double t;
    Py_ssize_t unused;
    pairbuf out = {0};
    int rc;
    if (parse_job(args, &J, v, &t, &unused)) {
        release_all(v, 6);
        return NULL;
    }
    const float alpha = alpha_for(J.metric, t);
    Py_BEGIN_ALLOW_THREADS;
    rc = run_threshold(&J, alpha, &out);
    Py_END_ALLOW_THREADS;
    release_all(v, 6);
    PyObject *res = rc ? PyErr_NoMemory() : pairbuf_to_tuple(&out);
    pairbuf_free(&out);
    return res;
}

PyDoc_STRVAR(topk_doc,
             "topk(path, a, b, pa, pb, pbf, cmin, n, m, w, i0, i1, metric, t, self_join, "
             "row_block, col_tile, k) -> (i, j, score) bytearrays\n\n"
             "For each row i in [i0, i1), its best k pairs with score >= t (score descending, "
             "then lower j), returned sorted by (i, j). A self-join skips j == i.");

static PyObject *py_topk(PyObject *self, PyObject *args)
{
    (void)self;
    job J;
    Py_buffer v[6];
    double t;
    Py_ssize_t k;
    pairbuf out = {0};
    int rc = 0;
    if (parse_job(args, &J, v, &t, &k)) {
        release_all(v, 6);
        return NULL;
    }
    if (k > (Py_ssize_t)J.m) k = (Py_ssize_t)J.m;
    if (k > 0 && J.m > 0) {
        Py_BEGIN_ALLOW_THREADS;
        rc = run_topk(&J, (size_t)k, t, &out);
        Py_END_ALLOW_THREADS;
    }
    release_all(v, 6);
    PyObject *res = rc ? PyErr_NoMemory() : pairbuf_to_tuple(&out);
    pairbuf_free(&out);
    return res;
}

PyDoc_STRVAR(score_pairs_doc,
             "score_pairs(path, a, b, pa, pb, ia, ib, n, m, w, metric) -> float64 bytearray\n\n"
             "Scores of the pairs (ia[q], ib[q]). Empty pa and pb buffers mean: count the "
             "popcounts of the two rows of each pair inline (cheaper than a pass over all rows "
             "when the pairs are few).");

static PyObject *py_score_pairs(PyObject *self, PyObject *args)
{
    (void)self;
    int path, metric;
    Py_ssize_t n, m, w;
    Py_buffer v[6];
    memset(v, 0, sizeof(v));
    if (!PyArg_ParseTuple(args, "iy*y*y*y*y*y*nnni", &path, &v[0], &v[1], &v[2], &v[3], &v[4],
                          &v[5], &n, &m, &w, &metric))
        return NULL;
    PyObject *res = NULL;
    double *out = NULL;
    if (get_path(path)) goto done;
    if (n < 0 || m < 0 || w < 0 || (metric != METRIC_DICE && metric != METRIC_JACCARD)) {
        PyErr_SetString(PyExc_ValueError, "invalid kernel arguments");
        goto done;
    }
    const size_t np_ = (size_t)v[4].len / 8;
    if ((size_t)v[5].len / 8 != np_) {
        PyErr_SetString(PyExc_ValueError, "ia and ib differ in length");
        goto done;
    }
    const int inline_pop = v[2].len == 0 && v[3].len == 0;
    if (check_len(&v[0], (size_t)n * (size_t)w, 8, "a") || check_len(&v[1], (size_t)m * (size_t)w, 8, "b") ||
        (!inline_pop && (check_len(&v[2], (size_t)n, 4, "pa") || check_len(&v[3], (size_t)m, 4, "pb"))))
        goto done;
    const int64_t *ia = v[4].buf, *ib = v[5].buf;
    for (size_t q = 0; q < np_; q++)
        if (ia[q] < 0 || ia[q] >= n || ib[q] < 0 || ib[q] >= m) {
            PyErr_Format(PyExc_IndexError, "pair %zu: row index out of range", q);
            goto done;
        }
    out = malloc(np_ ? np_ * sizeof(double) : 1);
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    {
        const kernel K = kernel_for(path);
        const uint64_t *a = v[0].buf, *b = v[1].buf;
        const uint32_t *pa = v[2].buf, *pb = v[3].buf;
        const size_t uw = (size_t)w;
        Py_BEGIN_ALLOW_THREADS;
        for (size_t q = 0; q < np_; q++) {
            const uint64_t *x = a + (size_t)ia[q] * uw, *y = b + (size_t)ib[q] * uw;
            const uint32_t c = K.count_pair(x, y, uw);
            const uint32_t s = inline_pop ? K.count_pair(x, x, uw) + K.count_pair(y, y, uw)
                                          : pa[ia[q]] + pb[ib[q]];
            out[q] = score_of(metric, c, s);
        }
        Py_END_ALLOW_THREADS;
    }
    res = bytes_of(out, np_ * sizeof(double));
done:
    free(out);
    release_all(v, 6);
    return res;
}

PyDoc_STRVAR(popcounts_doc, "popcounts(path, filters, n, w) -> uint32 bytearray");

static PyObject *py_popcounts(PyObject *self, PyObject *args)
{
    (void)self;
    int path;
    Py_ssize_t n, w;
    Py_buffer v;
    memset(&v, 0, sizeof(v));
    if (!PyArg_ParseTuple(args, "iy*nn", &path, &v, &n, &w)) return NULL;
    PyObject *res = NULL;
    uint32_t *out = NULL;
    if (get_path(path)) goto done;
    if (n < 0 || w < 0) {
        PyErr_SetString(PyExc_ValueError, "invalid kernel arguments");
        goto done;
    }
    if (check_len(&v, (size_t)n * (size_t)w, 8, "filters")) goto done;
    out = malloc(n ? (size_t)n * sizeof(uint32_t) : 1);
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    {
        const kernel K = kernel_for(path);
        const uint64_t *f = v.buf;
        const size_t uw = (size_t)w;
        Py_BEGIN_ALLOW_THREADS;
        for (size_t q = 0; q < (size_t)n; q++) out[q] = K.count_pair(f + q * uw, f + q * uw, uw);
        Py_END_ALLOW_THREADS;
    }
    res = bytes_of(out, (size_t)n * sizeof(uint32_t));
done:
    free(out);
    PyBuffer_Release(&v);
    return res;
}

PyDoc_STRVAR(supported_paths_doc,
             "supported_paths() -> tuple of CPU path names this CPU and build support, best first");

static PyObject *py_supported_paths(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (int p = N_PATHS - 1; p >= 0; p--) {
        if (!path_supported(p)) continue;
        PyObject *s = PyUnicode_FromString(PATH_NAMES[p]);
        if (!s || PyList_Append(out, s)) {
            Py_XDECREF(s);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(s);
    }
    PyObject *tup = PyList_AsTuple(out);
    Py_DECREF(out);
    return tup;
}

static PyMethodDef methods[] = {
    {"threshold", py_threshold, METH_VARARGS, threshold_doc},
    {"topk", py_topk, METH_VARARGS, topk_doc},
    {"score_pairs", py_score_pairs, METH_VARARGS, score_pairs_doc},
    {"popcounts", py_popcounts, METH_VARARGS, popcounts_doc},
    {"supported_paths", py_supported_paths, METH_NOARGS, supported_paths_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_cdice",
    "Dice/Jaccard kernels over packed uint64 bit filters (see linkage.matching.kernels).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__cdice(void) { return PyModule_Create(&moduledef); }
