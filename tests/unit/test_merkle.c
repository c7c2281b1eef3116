/* Unit tests for domain/merkle: every inclusion and consistency vector of transparency-dev/merkle
 * (read at test time from ../shared, or $KAMENG_MERKLE_VECTORS), the RFC 6962 hash known answers,
 * and properties over every tree up to 1024 leaves checked against a naive recursive reference:
 * generated proofs verify, and any change to index, size, roots or proof is refused. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "domain/merkle.h"

#define VECTORS_DIR_DEFAULT "../shared/data/merkle-vectors/testdata"
#define VECTOR_BYTES_MAX 128 /* the longest byte string in a vector is a 32-byte hash */
#define VECTOR_PROOF_MAX 80  /* longer than any proof, so extended proofs fit */
#define VECTOR_FILES_MAX 1024
#define PROP_LEAVES 1024   /* the largest tree in the property tests */
#define PROP_LEVELS 11     /* log2(PROP_LEAVES) + 1 */
#define EXHAUSTIVE_MAX 128 /* every index and size pair up to here; sampled beyond */

/* ---------- helpers ---------- */

static void hex_decode(const char *hex, unsigned char *out, size_t out_len)
{
    size_t bin_len = 0;
    cr_assert_eq(sodium_hex2bin(out, out_len, hex, strlen(hex), NULL, &bin_len, NULL), 0,
                 "bad hex %s", hex);
    cr_assert_eq(bin_len, out_len, "hex %s is %zu bytes, not %zu", hex, bin_len, out_len);
}

static void assert_hash_hex(const unsigned char got[MERKLE_HASH_BYTES], const char *want_hex,
                            const char *what)
{
    char got_hex[2 * MERKLE_HASH_BYTES + 1];
    sodium_bin2hex(got_hex, sizeof got_hex, got, MERKLE_HASH_BYTES);
    cr_assert_str_eq(got_hex, want_hex, "%s", what);
}

static bool hash_eq(const unsigned char *a, const unsigned char *b)
{
    return memcmp(a, b, MERKLE_HASH_BYTES) == 0;
}

/* ---------- the transparency-dev vectors ---------- */

struct vector_bytes {
    unsigned char data[VECTOR_BYTES_MAX];
    size_t len;
};

static const char *vectors_dir(void)
{
    const char *dir = getenv("KAMENG_MERKLE_VECTORS");
    return dir != NULL && dir[0] != '\0' ? dir : VECTORS_DIR_DEFAULT;
}

/* Every *.json under dir, depth first; paths are malloc'd and freed by the caller. */
static void collect_json(const char *dir, char **paths, int *count, int depth)
{
    cr_assert_lt(depth, 4, "vector directories nest deeper than expected at %s", dir);
    DIR *d = opendir(dir);
    cr_assert_not_null(d,
                       "cannot open the Merkle vectors at %s (%s): set KAMENG_MERKLE_VECTORS "
                       "or check out ../shared beside the repository",
                       dir, strerror(errno));
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') {
            continue;
        }
        char path[1024];
        int n = snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        cr_assert(n > 0 && (size_t)n < sizeof path);
        struct stat st;
        cr_assert_eq(stat(path, &st), 0, "stat %s", path);
        if (S_ISDIR(st.st_mode)) {
            collect_json(path, paths, count, depth + 1);
        } else if (n > 5 && strcmp(path + n - 5, ".json") == 0) {
            cr_assert_lt(*count, VECTOR_FILES_MAX);
            paths[(*count)++] = strdup(path);
        }
    }
    closedir(d);
}

/* jansson keeps integers as signed 64-bit, and the vectors' mutations include 2^64 - 1 (Go's
 * 0 - 1 in uint64): the unsigned fields are read from the text with strtoull, then masked to 0
 * so that jansson parses the rest (and checks its shape). */
static json_t *vector_load(const char *path, const char *const keys[2], uint64_t values[2])
{
    static char text[65536];
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t len = fread(text, 1, sizeof text - 1, f);
    cr_assert_lt(len, sizeof text - 1, "%s is unexpectedly large", path);
    fclose(f);
    text[len] = '\0';
    for (int i = 0; i < 2; i++) {
        char pattern[32];
        snprintf(pattern, sizeof pattern, "\"%s\":", keys[i]);
        char *at = strstr(text, pattern);
        cr_assert_not_null(at, "%s: no %s", path, keys[i]);
        cr_assert_null(strstr(at + 1, pattern), "%s: %s twice", path, keys[i]);
        char *digits = at + strlen(pattern);
        while (*digits == ' ') {
            digits++;
        }
        cr_assert(*digits >= '0' && *digits <= '9', "%s: %s is not an unsigned integer", path,
                  keys[i]);
        char *end = NULL;
        errno = 0;
        values[i] = strtoull(digits, &end, 10);
        cr_assert_eq(errno, 0, "%s: %s does not fit in 64 bits", path, keys[i]);
        digits[0] = '0';
        memset(digits + 1, ' ', (size_t)(end - digits - 1));
    }
    json_error_t err;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    cr_assert_not_null(root, "%s: %s at line %d", path, err.text, err.line);
    cr_assert(json_is_object(root), "%s is not an object", path);
    return root;
}

static void vector_b64(json_t *v, struct vector_bytes *out, const char *path, const char *key)
{
    cr_assert(json_is_string(v), "%s: %s is not a string", path, key);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    out->len = 0;
    if (len == 0) {
        return;
    }
    cr_assert_eq(sodium_base642bin(out->data, sizeof out->data, s, len, NULL, &out->len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0, "%s: %s is not base64", path, key);
}

static size_t vector_proof(json_t *obj, struct vector_bytes *proof, struct merkle_bytes *refs,
                           const char *path)
{
    json_t *arr = json_object_get(obj, "proof");
    if (json_is_null(arr)) {
        return 0; /* Go's nil slice: no proof */
    }
    cr_assert(json_is_array(arr), "%s: proof is not an array", path);
    size_t count = json_array_size(arr);
    cr_assert_leq(count, VECTOR_PROOF_MAX, "%s: proof too long for the harness", path);
    for (size_t i = 0; i < count; i++) {
        vector_b64(json_array_get(arr, i), &proof[i], path, "proof[]");
        refs[i].data = proof[i].data;
        refs[i].len = proof[i].len;
    }
    return count;
}

static bool vector_want_err(json_t *obj, const char *path)
{
    json_t *v = json_object_get(obj, "wantErr");
    cr_assert(json_is_boolean(v), "%s: wantErr is not a boolean", path);
    return json_is_true(v);
}

static struct merkle_bytes bytes_of(const struct vector_bytes *b)
{
    struct merkle_bytes r = {.data = b->data, .len = b->len};
    return r;
}

/* Returns whether the vector expected success, after checking that we agree with it. */
static bool check_inclusion_vector(const char *path)
{
    static struct vector_bytes proof[VECTOR_PROOF_MAX];
    struct merkle_bytes refs[VECTOR_PROOF_MAX];
    static const char *const keys[2] = {"leafIdx", "treeSize"};
    uint64_t sizes[2];
    json_t *v = vector_load(path, keys, sizes);
    uint64_t index = sizes[0];
    uint64_t size = sizes[1];
    struct vector_bytes root;
    struct vector_bytes leaf;
    vector_b64(json_object_get(v, "root"), &root, path, "root");
    vector_b64(json_object_get(v, "leafHash"), &leaf, path, "leafHash");
    size_t count = vector_proof(v, proof, refs, path);
    bool want_err = vector_want_err(v, path);
    const char *desc = json_string_value(json_object_get(v, "desc"));

    struct km_error e = {0};
    int rc = merkle_verify_inclusion_bytes(index, size, bytes_of(&leaf), refs, count,
                                           bytes_of(&root), &e);
    cr_expect_eq(rc != 0, want_err, "%s (%s): rc %d (%s), wantErr %d", path,
                 desc != NULL ? desc : "", rc, e.message, want_err);
    if (rc != 0) {
        cr_expect(rc == -KM_EINVAL || rc == -KM_ESIGNATURE, "%s: unexpected code %d", path, rc);
    }
    json_decref(v);
    return !want_err;
}

static bool check_consistency_vector(const char *path)
{
    static struct vector_bytes proof[VECTOR_PROOF_MAX];
    struct merkle_bytes refs[VECTOR_PROOF_MAX];
    static const char *const keys[2] = {"size1", "size2"};
    uint64_t sizes[2];
    json_t *v = vector_load(path, keys, sizes);
    uint64_t size1 = sizes[0];
    uint64_t size2 = sizes[1];
    struct vector_bytes root1;
    struct vector_bytes root2;
    vector_b64(json_object_get(v, "root1"), &root1, path, "root1");
    vector_b64(json_object_get(v, "root2"), &root2, path, "root2");
    size_t count = vector_proof(v, proof, refs, path);
    bool want_err = vector_want_err(v, path);
    const char *desc = json_string_value(json_object_get(v, "desc"));

    struct km_error e = {0};
    int rc = merkle_verify_consistency_bytes(size1, size2, bytes_of(&root1), bytes_of(&root2), refs,
                                             count, &e);
    cr_expect_eq(rc != 0, want_err, "%s (%s): rc %d (%s), wantErr %d", path,
                 desc != NULL ? desc : "", rc, e.message, want_err);
    if (rc != 0) {
        cr_expect(rc == -KM_EINVAL || rc == -KM_ESIGNATURE, "%s: unexpected code %d", path, rc);
    }
    json_decref(v);
    return !want_err;
}

static void check_vector_dir(const char *kind, bool (*check)(const char *path), int *total,
                             int *passing)
{
    static char *paths[VECTOR_FILES_MAX];
    char dir[1024];
    int n = snprintf(dir, sizeof dir, "%s/%s", vectors_dir(), kind);
    cr_assert(n > 0 && (size_t)n < sizeof dir);
    int count = 0;
    collect_json(dir, paths, &count, 0);
    *total = count;
    *passing = 0;
    for (int i = 0; i < count; i++) {
        if (check(paths[i])) {
            (*passing)++;
        }
        free(paths[i]);
    }
}

Test(merkle_vectors, every_inclusion_vector_honours_want_err)
{
    int total = 0;
    int passing = 0;
    check_vector_dir("inclusion", check_inclusion_vector, &total, &passing);
    cr_log_info("merkle: %d inclusion vectors, %d valid", total, passing);
    /* The snapshot has 5 happy paths with their mutations, plus the single-entry cases. */
    cr_assert_geq(total, 70, "only %d inclusion vectors found under %s", total, vectors_dir());
    cr_assert_geq(passing, 6, "only %d valid inclusion vectors", passing);
}

Test(merkle_vectors, every_consistency_vector_honours_want_err)
{
    int total = 0;
    int passing = 0;
    check_vector_dir("consistency", check_consistency_vector, &total, &passing);
    cr_log_info("merkle: %d consistency vectors, %d valid", total, passing);
    cr_assert_geq(total, 90, "only %d consistency vectors found under %s", total, vectors_dir());
    cr_assert_geq(passing, 6, "only %d valid consistency vectors", passing);
}

/* ---------- known answers (SOURCE.md of the vectors) ---------- */

Test(merkle_kat, leaf_hash)
{
    unsigned char h[MERKLE_HASH_BYTES];
    merkle_leaf_hash("L123456", 7, h);
    assert_hash_hex(h, "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56",
                    "HashLeaf(L123456)");
}

Test(merkle_kat, node_hash)
{
    /* The known answer hashes 4-byte children, which merkle_node_hash does not take by design
     * (a node's children are always hashes): check the RFC formula against it, then the function
     * against the formula. */
    static const unsigned char node_prefix = 0x01;
    unsigned char want[MERKLE_HASH_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &node_prefix, 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)"N123", 4);
    crypto_hash_sha256_update(&st, (const unsigned char *)"N456", 4);
    crypto_hash_sha256_final(&st, want);
    assert_hash_hex(want, "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb",
                    "HashChildren(N123, N456)");

    unsigned char left[MERKLE_HASH_BYTES];
    unsigned char right[MERKLE_HASH_BYTES];
    merkle_leaf_hash("N123", 4, left);
    merkle_leaf_hash("N456", 4, right);
    unsigned char input[1 + 2 * MERKLE_HASH_BYTES];
    input[0] = 0x01;
    memcpy(input + 1, left, MERKLE_HASH_BYTES);
    memcpy(input + 1 + MERKLE_HASH_BYTES, right, MERKLE_HASH_BYTES);
    crypto_hash_sha256(want, input, sizeof input);
    unsigned char got[MERKLE_HASH_BYTES];
    merkle_node_hash(left, right, got);
    cr_assert(hash_eq(got, want));
    /* out may alias an input */
    merkle_node_hash(left, right, left);
    cr_assert(hash_eq(left, want));
}

Test(merkle_kat, empty_root)
{
    unsigned char h[MERKLE_HASH_BYTES];
    merkle_empty_root(h);
    assert_hash_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    "empty root");
    merkle_root(NULL, 0, h);
    assert_hash_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    "root of no leaves");
    struct merkle_builder b;
    merkle_builder_init(&b);
    merkle_builder_root(&b, h);
    assert_hash_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    "builder with no leaves");
}

Test(merkle_kat, classic_tree_roots_of_sizes_1_to_8)
{
    static const char *const leaves_hex[8] = {
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    };
    static const char *const roots_hex[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    };
    unsigned char leaf_hashes[8][MERKLE_HASH_BYTES];
    struct merkle_builder b;
    merkle_builder_init(&b);
    for (int i = 0; i < 8; i++) {
        unsigned char data[16];
        size_t len = strlen(leaves_hex[i]) / 2;
        if (len > 0) {
            hex_decode(leaves_hex[i], data, len);
        }
        merkle_leaf_hash(len > 0 ? data : NULL, len, leaf_hashes[i]);
        merkle_builder_append(&b, leaf_hashes[i]);
        unsigned char root[MERKLE_HASH_BYTES];
        merkle_builder_root(&b, root);
        assert_hash_hex(root, roots_hex[i], "builder root");
        merkle_root(&leaf_hashes[0][0], (uint64_t)i + 1, root);
        assert_hash_hex(root, roots_hex[i], "batch root");
    }
}

/* ---------- property tests over trees of up to 1024 leaves ---------- */

/* The test tree: leaf i is the text "entry <i>"; levels[k][j] is the perfect subtree
 * [j*2^k, (j+1)*2^k), built bottom-up; roots[n] comes from the RFC's recursive definition of
 * MTH over that table, without any code from merkle.c but the two hash functions. */
struct prop_tree {
    unsigned char levels[PROP_LEVELS][PROP_LEAVES][MERKLE_HASH_BYTES];
    unsigned char roots[PROP_LEAVES + 1][MERKLE_HASH_BYTES];
    long source_calls;
    long fail_after; /* the source fails on this call, when >= 0 */
};

static struct prop_tree tree;

static void reference_mth(uint64_t begin, uint64_t end, unsigned char out[MERKLE_HASH_BYTES])
{
    uint64_t width = end - begin;
    if ((width & (width - 1)) == 0) {
        /* A perfect subtree: every one is in the table already (the recursion would start at
         * an aligned begin). */
        int level = 0;
        while ((UINT64_C(1) << level) < width) {
            level++;
        }
        memcpy(out, tree.levels[level][begin >> level], MERKLE_HASH_BYTES);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < end - begin) {
        k *= 2;
    }
    unsigned char left[MERKLE_HASH_BYTES];
    unsigned char right[MERKLE_HASH_BYTES];
    reference_mth(begin, begin + k, left);
    reference_mth(begin + k, end, right);
    merkle_node_hash(left, right, out);
}

static void tree_setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    memset(&tree, 0, sizeof tree);
    tree.fail_after = -1;
    for (int i = 0; i < PROP_LEAVES; i++) {
        char text[32];
        int n = snprintf(text, sizeof text, "entry %d", i);
        merkle_leaf_hash(text, (size_t)n, tree.levels[0][i]);
    }
    for (int k = 1; k < PROP_LEVELS; k++) {
        for (int j = 0; j < (PROP_LEAVES >> k); j++) {
            merkle_node_hash(tree.levels[k - 1][2 * j], tree.levels[k - 1][2 * j + 1],
                             tree.levels[k][j]);
        }
    }
    merkle_empty_root(tree.roots[0]);
    for (uint64_t n = 1; n <= PROP_LEAVES; n++) {
        reference_mth(0, n, tree.roots[n]);
    }
}

/* The store's side of the contract: only perfect, aligned subtrees are ever asked for. */
static int tree_subtree_hash(void *ctx, uint64_t begin, uint64_t end,
                             unsigned char out[MERKLE_HASH_BYTES], struct km_error *e)
{
    struct prop_tree *t = ctx;
    cr_assert_lt(begin, end);
    cr_assert_leq(end, PROP_LEAVES);
    uint64_t width = end - begin;
    cr_assert_eq(width & (width - 1), 0, "asked for [%lu, %lu): not a power of two",
                 (unsigned long)begin, (unsigned long)end);
    cr_assert_eq(begin % width, 0, "asked for [%lu, %lu): not aligned", (unsigned long)begin,
                 (unsigned long)end);
    if (t->fail_after >= 0 && t->source_calls == t->fail_after) {
        return km_fail(e, KM_EINTERNAL, "store_failed", "", "the store failed");
    }
    t->source_calls++;
    int level = __builtin_ctzll((unsigned long long)width);
    memcpy(out, t->levels[level][begin >> level], MERKLE_HASH_BYTES);
    return 0;
}

static const struct merkle_source tree_source = {.subtree_hash = tree_subtree_hash, .ctx = &tree};

/* Independent lengths: PATH and SUBPROOF from the RFC, counted recursively. */
static size_t path_length(uint64_t m, uint64_t n)
{
    if (n <= 1) {
        return 0;
    }
    uint64_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    return 1 + (m < k ? path_length(m, k) : path_length(m - k, n - k));
}

static size_t subproof_length(uint64_t m, uint64_t n, bool whole)
{
    if (m == n) {
        return whole ? 0 : 1;
    }
    uint64_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    return 1 + (m <= k ? subproof_length(m, k, whole) : subproof_length(m - k, n - k, false));
}

/* A cheap deterministic choice of indexes beyond the exhaustive range. */
static uint64_t lcg_next(uint64_t *state)
{
    *state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return *state >> 33;
}

/* Values in [lo, n): all of them for n <= EXHAUSTIVE_MAX; beyond, the edges (lo, n - 1) and the
 * split point of the tree (k - 1, k) where paths change shape, and random_count others. */
static size_t sample_points(uint64_t n, uint64_t lo, uint64_t *out, size_t max, uint64_t seed,
                            int random_count)
{
    size_t count = 0;
    if (n <= EXHAUSTIVE_MAX) {
        for (uint64_t i = lo; i < n && count < max; i++) {
            out[count++] = i;
        }
        return count;
    }
    uint64_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    const uint64_t fixed[] = {lo, k - 1, k, n - 1};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (fixed[i] >= lo && fixed[i] < n && count < max) {
            out[count++] = fixed[i];
        }
    }
    uint64_t state = seed ^ n;
    for (int i = 0; i < random_count && count < max; i++) {
        out[count++] = lo + lcg_next(&state) % (n - lo);
    }
    return count;
}

static bool inclusion_ok(uint64_t index, uint64_t size, const unsigned char *leaf,
                         const struct merkle_proof *p, const unsigned char *root)
{
    struct km_error e = {0};
    return merkle_verify_inclusion(index, size, leaf, p, root, &e) == 0;
}

static bool consistency_ok(uint64_t size1, uint64_t size2, const unsigned char *root1,
                           const unsigned char *root2, const struct merkle_proof *p)
{
    struct km_error e = {0};
    return merkle_verify_consistency(size1, size2, root1, root2, p, &e) == 0;
}

static void proof_drop_first(struct merkle_proof *p)
{
    memmove(p->hashes[0], p->hashes[1], (p->count - 1) * MERKLE_HASH_BYTES);
    p->count--;
}

static void proof_prepend(struct merkle_proof *p, const unsigned char *h)
{
    memmove(p->hashes[1], p->hashes[0], p->count * MERKLE_HASH_BYTES);
    memcpy(p->hashes[0], h, MERKLE_HASH_BYTES);
    p->count++;
}

static void check_inclusion_case(uint64_t i, uint64_t n)
{
    struct merkle_proof p;
    struct km_error e = {0};
    cr_assert_eq(merkle_prove_inclusion(i, n, &tree_source, &p, &e), 0, "prove(%lu, %lu): %s",
                 (unsigned long)i, (unsigned long)n, e.message);
    cr_assert_eq(p.count, path_length(i, n), "proof length for (%lu, %lu)", (unsigned long)i,
                 (unsigned long)n);
    const unsigned char *leaf = tree.levels[0][i];
    const unsigned char *root = tree.roots[n];
    cr_assert(inclusion_ok(i, n, leaf, &p, root), "valid proof (%lu, %lu) refused",
              (unsigned long)i, (unsigned long)n);

    struct merkle_proof bad;
    unsigned char h[MERKLE_HASH_BYTES];
    /* a flipped bit anywhere */
    for (size_t k = 0; k < p.count; k++) {
        bad = p;
        bad.hashes[k][(k * 7 + i) % MERKLE_HASH_BYTES] ^= (unsigned char)(1u << (k % 8));
        cr_assert(!inclusion_ok(i, n, leaf, &bad, root), "flipped proof[%zu] (%lu, %lu)", k,
                  (unsigned long)i, (unsigned long)n);
    }
    memcpy(h, leaf, sizeof h);
    h[i % MERKLE_HASH_BYTES] ^= 0x10;
    cr_assert(!inclusion_ok(i, n, h, &p, root), "flipped leaf (%lu, %lu)", (unsigned long)i,
              (unsigned long)n);
    memcpy(h, root, sizeof h);
    h[31] ^= 0x01;
    cr_assert(!inclusion_ok(i, n, leaf, &p, h), "flipped root (%lu, %lu)", (unsigned long)i,
              (unsigned long)n);
    /* another leaf's hash */
    cr_assert(!inclusion_ok(i, n, tree.levels[0][(i + 1) % PROP_LEAVES], &p, root));
    /* wrong index */
    if (i + 1 < n) {
        cr_assert(!inclusion_ok(i + 1, n, leaf, &p, root), "index+1 (%lu, %lu)", (unsigned long)i,
                  (unsigned long)n);
    }
    if (i > 0) {
        cr_assert(!inclusion_ok(i - 1, n, leaf, &p, root), "index-1 (%lu, %lu)", (unsigned long)i,
                  (unsigned long)n);
    }
    if ((i ^ 2) < n) {
        cr_assert(!inclusion_ok(i ^ 2, n, leaf, &p, root), "index^2 (%lu, %lu)", (unsigned long)i,
                  (unsigned long)n);
    }
    cr_assert(!inclusion_ok(n, n, leaf, &p, root));
    cr_assert(!inclusion_ok(UINT64_MAX, n, leaf, &p, root));
    /* wrong size: against the root of that size, and (for double and half, which always change
     * the path's length) against this root. A neighbouring size can share the path's shape (the
     * proof for entry 0 of 3 also reads as one for entry 0 of 4 whose root is the root of 3),
     * which is harmless because a checkpoint binds each size to its root. */
    if (n + 1 <= PROP_LEAVES) {
        cr_assert(!inclusion_ok(i, n + 1, leaf, &p, tree.roots[n + 1]), "size+1 (%lu, %lu)",
                  (unsigned long)i, (unsigned long)n);
    }
    if (n - 1 > i) {
        cr_assert(!inclusion_ok(i, n - 1, leaf, &p, tree.roots[n - 1]), "size-1 (%lu, %lu)",
                  (unsigned long)i, (unsigned long)n);
    }
    cr_assert(!inclusion_ok(i, n * 2, leaf, &p, root), "size*2 (%lu, %lu)", (unsigned long)i,
              (unsigned long)n);
    cr_assert(!inclusion_ok(i, n / 2, leaf, &p, root), "size/2 (%lu, %lu)", (unsigned long)i,
              (unsigned long)n);
    cr_assert(!inclusion_ok(i, 0, leaf, &p, root));
    /* truncated and extended */
    if (p.count > 0) {
        bad = p;
        bad.count--;
        cr_assert(!inclusion_ok(i, n, leaf, &bad, root), "truncated (%lu, %lu)", (unsigned long)i,
                  (unsigned long)n);
        bad = p;
        proof_drop_first(&bad);
        cr_assert(!inclusion_ok(i, n, leaf, &bad, root), "first dropped (%lu, %lu)",
                  (unsigned long)i, (unsigned long)n);
    }
    bad = p;
    memcpy(bad.hashes[bad.count++], root, MERKLE_HASH_BYTES);
    cr_assert(!inclusion_ok(i, n, leaf, &bad, root), "trailing root (%lu, %lu)", (unsigned long)i,
              (unsigned long)n);
    bad = p;
    memset(bad.hashes[bad.count++], 0, MERKLE_HASH_BYTES);
    cr_assert(!inclusion_ok(i, n, leaf, &bad, root));
    bad = p;
    proof_prepend(&bad, leaf);
    cr_assert(!inclusion_ok(i, n, leaf, &bad, root), "preceding leaf (%lu, %lu)", (unsigned long)i,
              (unsigned long)n);
}

Test(merkle_props, inclusion_proofs_verify_and_every_change_is_refused, .init = tree_setup,
     .timeout = 120)
{
    uint64_t indexes[EXHAUSTIVE_MAX];
    long cases = 0;
    for (uint64_t n = 1; n <= PROP_LEAVES; n++) {
        size_t count = sample_points(n, 0, indexes, EXHAUSTIVE_MAX, 0x1d, 2);
        for (size_t k = 0; k < count; k++) {
            check_inclusion_case(indexes[k], n);
            cases++;
        }
    }
    cr_log_info("merkle: %ld inclusion (index, size) cases", cases);
    cr_assert_geq(cases, EXHAUSTIVE_MAX * (EXHAUSTIVE_MAX + 1) / 2);
}

static void check_consistency_case(uint64_t m, uint64_t n)
{
    struct merkle_proof p;
    struct km_error e = {0};
    cr_assert_eq(merkle_prove_consistency(m, n, &tree_source, &p, &e), 0, "prove(%lu, %lu): %s",
                 (unsigned long)m, (unsigned long)n, e.message);
    cr_assert_eq(p.count, subproof_length(m, n, true), "proof length for (%lu, %lu)",
                 (unsigned long)m, (unsigned long)n);
    const unsigned char *r1 = tree.roots[m];
    const unsigned char *r2 = tree.roots[n];
    cr_assert(consistency_ok(m, n, r1, r2, &p), "valid proof (%lu, %lu) refused", (unsigned long)m,
              (unsigned long)n);

    struct merkle_proof bad;
    unsigned char h[MERKLE_HASH_BYTES];
    memcpy(h, r1, sizeof h);
    h[m % MERKLE_HASH_BYTES] ^= 0x04;
    cr_assert(!consistency_ok(m, n, h, r2, &p), "flipped root1 (%lu, %lu)", (unsigned long)m,
              (unsigned long)n);
    memcpy(h, r2, sizeof h);
    h[n % MERKLE_HASH_BYTES] ^= 0x04;
    cr_assert(!consistency_ok(m, n, r1, h, &p), "flipped root2 (%lu, %lu)", (unsigned long)m,
              (unsigned long)n);
    /* a non-empty proof where none belongs, or one hash too many */
    bad = p;
    memcpy(bad.hashes[bad.count++], r1, MERKLE_HASH_BYTES);
    cr_assert(!consistency_ok(m, n, r1, r2, &bad), "trailing root1 (%lu, %lu)", (unsigned long)m,
              (unsigned long)n);
    if (m == n) {
        return;
    }

    cr_assert(!consistency_ok(m, n, r2, r1, &p), "swapped roots (%lu, %lu)", (unsigned long)m,
              (unsigned long)n);
    for (size_t k = 0; k < p.count; k++) {
        bad = p;
        bad.hashes[k][(k * 5 + m) % MERKLE_HASH_BYTES] ^= (unsigned char)(0x10u >> (k % 5));
        cr_assert(!consistency_ok(m, n, r1, r2, &bad), "flipped proof[%zu] (%lu, %lu)", k,
                  (unsigned long)m, (unsigned long)n);
    }
    bad = p;
    bad.count--;
    cr_assert(!consistency_ok(m, n, r1, r2, &bad), "truncated (%lu, %lu)", (unsigned long)m,
              (unsigned long)n);
    bad = p;
    proof_drop_first(&bad);
    cr_assert(!consistency_ok(m, n, r1, r2, &bad), "first dropped (%lu, %lu)", (unsigned long)m,
              (unsigned long)n);
    bad = p;
    memcpy(bad.hashes[bad.count++], r2, MERKLE_HASH_BYTES);
    cr_assert(!consistency_ok(m, n, r1, r2, &bad), "trailing root2 (%lu, %lu)", (unsigned long)m,
              (unsigned long)n);
    bad = p;
    proof_prepend(&bad, r1);
    cr_assert(!consistency_ok(m, n, r1, r2, &bad), "preceding root1 (%lu, %lu)", (unsigned long)m,
              (unsigned long)n);
    bad = p;
    proof_prepend(&bad, p.hashes[0]);
    cr_assert(!consistency_ok(m, n, r1, r2, &bad), "preceding proof[0] (%lu, %lu)",
              (unsigned long)m, (unsigned long)n);
    bad.count = 0;
    cr_assert(!consistency_ok(m, n, r1, r2, &bad), "empty proof (%lu, %lu)", (unsigned long)m,
              (unsigned long)n);
    /* wrong sizes, against the true roots of those sizes and against these roots */
    const uint64_t other_m[] = {m - 1, m + 1, m ^ 2};
    for (size_t k = 0; k < 3; k++) {
        uint64_t mm = other_m[k];
        if (mm == m || mm > n) {
            continue;
        }
        if (mm <= PROP_LEAVES) {
            cr_assert(!consistency_ok(mm, n, tree.roots[mm], r2, &p),
                      "size1 %lu with its root (%lu, %lu)", (unsigned long)mm, (unsigned long)m,
                      (unsigned long)n);
        }
        cr_assert(!consistency_ok(mm, n, r1, r2, &p), "size1 %lu (%lu, %lu)", (unsigned long)mm,
                  (unsigned long)m, (unsigned long)n);
    }
    /* Against these roots only double and half, as for inclusion: a neighbouring size can share
     * the path's shape (the proof from 1 to 3 also reads as one from 1 to 4 whose root is the
     * root of 3), which is harmless because a checkpoint binds each size to its root. */
    const uint64_t other_n[] = {n - 1, n + 1, n * 2, n / 2};
    for (size_t k = 0; k < 4; k++) {
        uint64_t nn = other_n[k];
        if (nn <= PROP_LEAVES && nn >= m) {
            cr_assert(!consistency_ok(m, nn, r1, tree.roots[nn], &p),
                      "size2 %lu with its root (%lu, %lu)", (unsigned long)nn, (unsigned long)m,
                      (unsigned long)n);
        }
        if (k >= 2) {
            cr_assert(!consistency_ok(m, nn, r1, r2, &p), "size2 %lu (%lu, %lu)", (unsigned long)nn,
                      (unsigned long)m, (unsigned long)n);
        }
    }
}

Test(merkle_props, consistency_proofs_verify_and_every_change_is_refused, .init = tree_setup,
     .timeout = 120)
{
    long cases = 0;
    for (uint64_t n = 1; n <= EXHAUSTIVE_MAX; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            check_consistency_case(m, n);
            cases++;
        }
    }
    /* Beyond: every 7th size and the powers of two around, each with sampled older sizes. */
    uint64_t olds[EXHAUSTIVE_MAX];
    for (uint64_t n = EXHAUSTIVE_MAX + 1; n <= PROP_LEAVES; n++) {
        bool near_power = ((n - 1) & (n - 2)) == 0 || (n & (n - 1)) == 0 || ((n + 1) & n) == 0;
        if (n % 7 != 0 && !near_power && n != PROP_LEAVES) {
            continue;
        }
        size_t count = sample_points(n + 1, 1, olds, EXHAUSTIVE_MAX, 0xc0, 4);
        for (size_t k = 0; k < count; k++) {
            check_consistency_case(olds[k], n);
            cases++;
        }
    }
    cr_log_info("merkle: %ld consistency (size1, size2) cases", cases);
    cr_assert_geq(cases, EXHAUSTIVE_MAX * (EXHAUSTIVE_MAX + 1) / 2);
}

Test(merkle_props, builder_root_equals_batch_root_for_every_size, .init = tree_setup)
{
    struct merkle_builder b;
    merkle_builder_init(&b);
    unsigned char root[MERKLE_HASH_BYTES];
    for (uint64_t n = 1; n <= PROP_LEAVES; n++) {
        merkle_builder_append(&b, tree.levels[0][n - 1]);
        cr_assert_eq(b.size, n);
        merkle_builder_root(&b, root);
        cr_assert(hash_eq(root, tree.roots[n]), "builder root at size %lu", (unsigned long)n);
        merkle_root(&tree.levels[0][0][0], n, root);
        cr_assert(hash_eq(root, tree.roots[n]), "batch root at size %lu", (unsigned long)n);

        struct merkle_builder restored;
        struct km_error e = {0};
        cr_assert_eq(merkle_builder_restore(&restored, n, &tree_source, &e), 0, "%s", e.message);
        cr_assert_eq(restored.size, n);
        size_t edge = (size_t)__builtin_popcountll((unsigned long long)n);
        cr_assert_eq(memcmp(restored.edge, b.edge, edge * MERKLE_HASH_BYTES), 0,
                     "restored edge at size %lu", (unsigned long)n);
        merkle_builder_root(&restored, root);
        cr_assert(hash_eq(root, tree.roots[n]));
    }
}

Test(merkle_props, restored_builder_keeps_growing, .init = tree_setup)
{
    struct merkle_builder b;
    struct km_error e = {0};
    cr_assert_eq(merkle_builder_restore(&b, 300, &tree_source, &e), 0);
    for (uint64_t n = 301; n <= PROP_LEAVES; n++) {
        merkle_builder_append(&b, tree.levels[0][n - 1]);
    }
    unsigned char root[MERKLE_HASH_BYTES];
    merkle_builder_root(&b, root);
    cr_assert(hash_eq(root, tree.roots[PROP_LEAVES]));
}

/* ---------- the store failing, and bad requests ---------- */

Test(merkle_source, errors_from_the_store_are_passed_on, .init = tree_setup)
{
    struct merkle_proof p;
    struct km_error e = {0};
    for (long fail = 0; fail < 4; fail++) {
        tree.source_calls = 0;
        tree.fail_after = fail;
        cr_assert_eq(merkle_prove_inclusion(5, 1000, &tree_source, &p, &e), -KM_EINTERNAL);
        cr_assert_str_eq(e.reason, "store_failed");
        cr_assert_eq(p.count, 0);
        tree.source_calls = 0;
        cr_assert_eq(merkle_prove_consistency(5, 1000, &tree_source, &p, &e), -KM_EINTERNAL);
        cr_assert_eq(p.count, 0);
    }
    struct merkle_builder b;
    merkle_builder_init(&b);
    merkle_builder_append(&b, tree.levels[0][0]);
    tree.source_calls = 0;
    tree.fail_after = 2;
    cr_assert_eq(merkle_builder_restore(&b, 1023, &tree_source, &e), -KM_EINTERNAL);
    cr_assert_eq(b.size, 1, "a failed restore leaves the builder as it was");
}

Test(merkle_source, bad_requests_are_refused, .init = tree_setup)
{
    struct merkle_proof p;
    struct km_error e = {0};
    cr_assert_eq(merkle_prove_inclusion(0, 0, &tree_source, &p, &e), -KM_EINVAL);
    cr_assert_str_eq(e.param, "index");
    cr_assert_eq(merkle_prove_inclusion(8, 8, &tree_source, &p, &e), -KM_EINVAL);
    cr_assert_eq(merkle_prove_inclusion(0, MERKLE_TREE_SIZE_MAX + 1, &tree_source, &p, &e),
                 -KM_EINVAL);
    cr_assert_eq(merkle_prove_consistency(0, 8, &tree_source, &p, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "size1_zero");
    cr_assert_eq(merkle_prove_consistency(9, 8, &tree_source, &p, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "size1_exceeds_size2");
    cr_assert_eq(merkle_prove_consistency(8, 8, &tree_source, &p, &e), 0);
    cr_assert_eq(p.count, 0);
    struct merkle_builder b;
    cr_assert_eq(merkle_builder_restore(&b, MERKLE_TREE_SIZE_MAX + 1, &tree_source, &e),
                 -KM_EINVAL);
}

Test(merkle_verify, malformed_claims_are_refused_before_hashing, .init = tree_setup)
{
    struct merkle_proof p = {0};
    struct km_error e = {0};
    const unsigned char *h = tree.levels[0][0];
    cr_assert_eq(merkle_verify_inclusion(0, 0, h, &p, h, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "index_out_of_range");
    cr_assert_eq(merkle_verify_inclusion(0, 1, h, &p, h, &e), 0, "one leaf is its own root");
    p.count = MERKLE_PROOF_HASHES_MAX + 1;
    cr_assert_eq(merkle_verify_inclusion(0, 2, h, &p, h, &e), -KM_EINVAL);
    p.count = 1;
    cr_assert_eq(merkle_verify_inclusion(0, 1, h, &p, h, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "proof_too_long");
    p.count = 0;
    cr_assert_eq(merkle_verify_inclusion(0, 2, h, &p, h, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "proof_too_short");

    cr_assert_eq(merkle_verify_consistency(2, 1, h, h, &p, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "size1_exceeds_size2");
    cr_assert_eq(merkle_verify_consistency(0, 0, h, h, &p, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "size1_zero");
    cr_assert_eq(merkle_verify_consistency(0, 5, h, h, &p, &e), -KM_EINVAL);
    cr_assert_eq(merkle_verify_consistency(3, 3, h, h, &p, &e), 0);
    cr_assert_eq(merkle_verify_consistency(3, 3, h, tree.levels[0][1], &p, &e), -KM_ESIGNATURE);
    cr_assert_eq(merkle_verify_consistency(3, 5, h, h, &p, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "proof_empty");
    p.count = 1;
    cr_assert_eq(merkle_verify_consistency(3, 3, h, h, &p, &e), -KM_EINVAL);
    cr_assert_str_eq(e.reason, "proof_not_empty");
    p.count = MERKLE_PROOF_HASHES_MAX + 1;
    cr_assert_eq(merkle_verify_consistency(3, 5, h, h, &p, &e), -KM_EINVAL);
}

Test(merkle_verify, bytes_layer_checks_every_length, .init = tree_setup)
{
    struct km_error e = {0};
    const unsigned char *h = tree.levels[0][0];
    struct merkle_bytes good = {.data = h, .len = MERKLE_HASH_BYTES};
    struct merkle_bytes short_hash = {.data = h, .len = MERKLE_HASH_BYTES - 1};
    struct merkle_bytes empty = {.data = NULL, .len = 0};
    cr_assert_eq(merkle_verify_inclusion_bytes(0, 1, good, NULL, 0, good, &e), 0);
    cr_assert_eq(merkle_verify_inclusion_bytes(0, 1, short_hash, NULL, 0, good, &e), -KM_EINVAL);
    cr_assert_str_eq(e.param, "leaf_hash");
    cr_assert_eq(merkle_verify_inclusion_bytes(0, 1, good, NULL, 0, empty, &e), -KM_EINVAL);
    cr_assert_str_eq(e.param, "root");
    struct merkle_bytes proof[2] = {good, short_hash};
    cr_assert_eq(merkle_verify_inclusion_bytes(0, 4, good, proof, 2, good, &e), -KM_EINVAL);
    cr_assert_str_eq(e.param, "proof");
    cr_assert_eq(merkle_verify_consistency_bytes(1, 2, good, short_hash, proof, 1, &e), -KM_EINVAL);
    cr_assert_str_eq(e.param, "root2");
    /* equal sizes compare the roots as byte strings */
    cr_assert_eq(merkle_verify_consistency_bytes(4, 4, short_hash, short_hash, NULL, 0, &e), 0);
    cr_assert_eq(merkle_verify_consistency_bytes(4, 4, short_hash, good, NULL, 0, &e),
                 -KM_ESIGNATURE);
}

/* ---------- the largest trees: a tree of 2^63 equal leaves, whose subtree hashes are known ---- */

static unsigned char uniform_levels[64][MERKLE_HASH_BYTES];

static int uniform_subtree_hash(void *ctx, uint64_t begin, uint64_t end,
                                unsigned char out[MERKLE_HASH_BYTES], struct km_error *e)
{
    (void)ctx;
    (void)e;
    uint64_t width = end - begin;
    cr_assert_eq(width & (width - 1), 0);
    cr_assert_eq(begin & (width - 1), 0);
    memcpy(out, uniform_levels[__builtin_ctzll((unsigned long long)width)], MERKLE_HASH_BYTES);
    return 0;
}

Test(merkle_limits, proofs_in_the_largest_tree_fit_and_verify)
{
    merkle_leaf_hash("same", 4, uniform_levels[0]);
    for (int k = 1; k < 64; k++) {
        merkle_node_hash(uniform_levels[k - 1], uniform_levels[k - 1], uniform_levels[k]);
    }
    const struct merkle_source src = {.subtree_hash = uniform_subtree_hash, .ctx = NULL};
    const uint64_t max = MERKLE_TREE_SIZE_MAX;
    const uint64_t sizes[] = {max, max - 1, max - 2, (max >> 1) + 1, UINT64_C(0x5555555555555555)};
    struct km_error e = {0};
    struct merkle_proof p;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t n = sizes[s];
        struct merkle_builder b;
        cr_assert_eq(merkle_builder_restore(&b, n, &src, &e), 0);
        unsigned char root[MERKLE_HASH_BYTES];
        merkle_builder_root(&b, root);
        const uint64_t indexes[] = {0, 1, n / 2, n - 2, n - 1};
        for (size_t k = 0; k < 5; k++) {
            cr_assert_eq(merkle_prove_inclusion(indexes[k], n, &src, &p, &e), 0);
            cr_assert_leq(p.count, 63);
            cr_assert_eq(merkle_verify_inclusion(indexes[k], n, uniform_levels[0], &p, root, &e), 0,
                         "inclusion %lu in %lu: %s", (unsigned long)indexes[k], (unsigned long)n,
                         e.message);
        }
        const uint64_t olds[] = {1, 3, n / 3, n - 1, n};
        for (size_t k = 0; k < 5; k++) {
            struct merkle_builder ob;
            cr_assert_eq(merkle_builder_restore(&ob, olds[k], &src, &e), 0);
            unsigned char old_root[MERKLE_HASH_BYTES];
            merkle_builder_root(&ob, old_root);
            cr_assert_eq(merkle_prove_consistency(olds[k], n, &src, &p, &e), 0);
            cr_assert_leq(p.count, MERKLE_PROOF_HASHES_MAX);
            cr_assert_eq(merkle_verify_consistency(olds[k], n, old_root, root, &p, &e), 0,
                         "consistency %lu to %lu: %s", (unsigned long)olds[k], (unsigned long)n,
                         e.message);
        }
    }
    /* The longest consistency proof: 63 levels and the older tree's own subtree. */
    cr_assert_eq(merkle_prove_consistency(max - 1, max, &src, &p, &e), 0);
    cr_assert_eq(p.count, 64);
    /* Sizes beyond the limit still verify (or not) without misbehaving. */
    struct merkle_proof junk = {.count = 64};
    cr_assert_neq(merkle_verify_inclusion(UINT64_MAX - 1, UINT64_MAX, uniform_levels[0], &junk,
                                          uniform_levels[0], &e),
                  0);
    cr_assert_neq(merkle_verify_consistency(UINT64_MAX - 1, UINT64_MAX, uniform_levels[0],
                                            uniform_levels[1], &junk, &e),
                  0);
}
