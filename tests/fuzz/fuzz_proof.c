/* libFuzzer target for proof verification in domain/merkle, from raw bytes: sizes, hashes of any
 * length and proofs of any count go to the verifiers, which must not misbehave; and in a tree of
 * up to 64 leaves, a generated proof must verify while any change the input picks (a flipped bit,
 * another index or size, a truncated or extended proof, swapped roots) must not. Build and run
 * with tests/fuzz/run.sh. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TREE_LEAVES 64
#define TREE_LEVELS 7
#define RAW_PROOF_MAX 80 /* beyond MERKLE_PROOF_HASHES_MAX, to reach that check */

/* levels[k][j]: the perfect subtree [j 2^k, (j+1) 2^k) of a tree whose leaf i hashes byte i. */
static unsigned char levels[TREE_LEVELS][TREE_LEAVES][MERKLE_HASH_BYTES];
static unsigned char roots[TREE_LEAVES + 1][MERKLE_HASH_BYTES];

static int tree_subtree_hash(void *ctx, uint64_t begin, uint64_t end,
                             unsigned char out[MERKLE_HASH_BYTES], struct km_error *e)
{
    (void)ctx;
    (void)e;
    uint64_t width = end - begin;
    int level = __builtin_ctzll((unsigned long long)width);
    if (end > TREE_LEAVES || (width & (width - 1)) != 0 || (begin & (width - 1)) != 0) {
        abort();
    }
    memcpy(out, levels[level][begin >> level], MERKLE_HASH_BYTES);
    return 0;
}

static const struct merkle_source source = {.subtree_hash = tree_subtree_hash, .ctx = NULL};

static void tree_setup(void)
{
    static bool ready;
    if (ready) {
        return;
    }
    for (int i = 0; i < TREE_LEAVES; i++) {
        unsigned char byte = (unsigned char)i;
        merkle_leaf_hash(&byte, 1, levels[0][i]);
    }
    for (int k = 1; k < TREE_LEVELS; k++) {
        for (int j = 0; j < (TREE_LEAVES >> k); j++) {
            merkle_node_hash(levels[k - 1][2 * j], levels[k - 1][2 * j + 1], levels[k][j]);
        }
    }
    struct merkle_builder b;
    merkle_builder_init(&b);
    merkle_builder_root(&b, roots[0]);
    for (int n = 1; n <= TREE_LEAVES; n++) {
        merkle_builder_append(&b, levels[0][n - 1]);
        merkle_builder_root(&b, roots[n]);
    }
    ready = true;
}

/* A little reader over the input: bytes past the end read as zero. */
struct reader {
    const uint8_t *data;
    size_t size;
    size_t pos;
};

static uint8_t read_u8(struct reader *r)
{
    return r->pos < r->size ? r->data[r->pos++] : 0;
}

static uint64_t read_u64(struct reader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)read_u8(r) << (8 * i);
    }
    return v;
}

/* A byte string of length given by one byte, cut short at the end of the input. */
static struct merkle_bytes read_bytes(struct reader *r)
{
    size_t len = read_u8(r);
    if (len > r->size - r->pos) {
        len = r->size - r->pos;
    }
    struct merkle_bytes b = {.data = r->data + r->pos, .len = len};
    r->pos += len;
    return b;
}

static void fuzz_raw(struct reader *r, bool inclusion, bool small)
{
    uint64_t a = read_u64(r);
    uint64_t b = read_u64(r);
    if (small) {
        a %= 80;
        b %= 80;
    }
    struct merkle_bytes first = read_bytes(r);
    struct merkle_bytes second = read_bytes(r);
    struct merkle_bytes proof[RAW_PROOF_MAX];
    size_t count = 0;
    while (r->pos < r->size && count < RAW_PROOF_MAX) {
        proof[count++] = read_bytes(r);
    }
    struct km_error e;
    int rc = inclusion ? merkle_verify_inclusion_bytes(a, b, first, proof, count, second, &e)
                       : merkle_verify_consistency_bytes(a, b, first, second, proof, count, &e);
    if (rc != 0 && rc != -KM_EINVAL && rc != -KM_ESIGNATURE) {
        abort();
    }
}

static void flip_bit(unsigned char *h, uint8_t where)
{
    h[(where >> 3) % MERKLE_HASH_BYTES] ^= (unsigned char)(1u << (where & 7));
}

static void fuzz_inclusion(struct reader *r)
{
    uint64_t n = 1 + read_u8(r) % TREE_LEAVES;
    uint64_t i = read_u8(r) % n;
    struct merkle_proof p;
    struct km_error e;
    if (merkle_prove_inclusion(i, n, &source, &p, &e) != 0 ||
        merkle_verify_inclusion(i, n, levels[0][i], &p, roots[n], &e) != 0) {
        abort();
    }
    unsigned char leaf[MERKLE_HASH_BYTES];
    unsigned char root[MERKLE_HASH_BYTES];
    memcpy(leaf, levels[0][i], sizeof leaf);
    memcpy(root, roots[n], sizeof root);
    uint64_t index = i;
    uint64_t tree_size = n;
    uint8_t kind = read_u8(r) % 6;
    uint8_t arg = read_u8(r);
    if (kind == 0 && p.count > 0) {
        flip_bit(p.hashes[arg % p.count], read_u8(r));
    } else if (kind == 1) {
        flip_bit(arg & 1 ? leaf : root, read_u8(r));
    } else if (kind == 2) {
        index = (i + 1 + arg) % (n + 2); /* another index, perhaps out of range */
        if (index == i) {
            index = n;
        }
    } else if (kind == 3) {
        /* another size, with its own true root: no proof is shared between two sizes */
        tree_size = 1 + (n + arg % (TREE_LEAVES - 1)) % TREE_LEAVES;
        memcpy(root, roots[tree_size], sizeof root);
    } else if (kind == 4 && p.count > 0) {
        p.count = arg % p.count;
    } else {
        size_t extra = 1 + arg % 3;
        for (size_t k = 0; k < extra && p.count < MERKLE_PROOF_HASHES_MAX; k++) {
            for (size_t j = 0; j < MERKLE_HASH_BYTES; j++) {
                p.hashes[p.count][j] = read_u8(r);
            }
            p.count++;
        }
    }
    if (merkle_verify_inclusion(index, tree_size, leaf, &p, root, &e) == 0) {
        abort();
    }
}

static void fuzz_consistency(struct reader *r)
{
    uint64_t n = 1 + read_u8(r) % TREE_LEAVES;
    uint64_t m = 1 + read_u8(r) % n;
    struct merkle_proof p;
    struct km_error e;
    if (merkle_prove_consistency(m, n, &source, &p, &e) != 0 ||
        merkle_verify_consistency(m, n, roots[m], roots[n], &p, &e) != 0) {
        abort();
    }
    unsigned char root1[MERKLE_HASH_BYTES];
    unsigned char root2[MERKLE_HASH_BYTES];
    memcpy(root1, roots[m], sizeof root1);
    memcpy(root2, roots[n], sizeof root2);
    uint8_t kind = read_u8(r) % 5;
    uint8_t arg = read_u8(r);
    if (kind == 0 && p.count > 0) {
        flip_bit(p.hashes[arg % p.count], read_u8(r));
    } else if (kind == 1) {
        flip_bit(arg & 1 ? root1 : root2, read_u8(r));
    } else if (kind == 2 && m != n) {
        memcpy(root1, roots[n], sizeof root1);
        memcpy(root2, roots[m], sizeof root2);
    } else if (kind == 3 && p.count > 0) {
        p.count = arg % p.count;
    } else {
        size_t extra = 1 + arg % 3;
        for (size_t k = 0; k < extra && p.count < MERKLE_PROOF_HASHES_MAX; k++) {
            for (size_t j = 0; j < MERKLE_HASH_BYTES; j++) {
                p.hashes[p.count][j] = read_u8(r);
            }
            p.count++;
        }
    }
    if (merkle_verify_consistency(m, n, root1, root2, &p, &e) == 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tree_setup();
    struct reader r = {.data = data, .size = size, .pos = 0};
    uint8_t mode = read_u8(&r);
    switch (mode % 4) {
    case 0:
        fuzz_raw(&r, true, (mode & 4) != 0);
        break;
    case 1:
        fuzz_raw(&r, false, (mode & 4) != 0);
        break;
    case 2:
        fuzz_inclusion(&r);
        break;
    default:
        fuzz_consistency(&r);
        break;
    }
    return 0;
}
