/* RFC 9162 (RFC 6962) Merkle tree math for the evidence log: leaf and node hashes, tree roots,
 * an incremental builder that keeps only the right edge, and inclusion and consistency proofs,
 * generated from a store's subtree hashes and verified exactly as RFC 9162 §2.1.3.2 and §2.1.4.2
 * say. Pure computation: no allocation, no I/O; the store is reached through a callback. */
#ifndef KM_MERKLE_H
#define KM_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"

#define MERKLE_HASH_BYTES 32 /* SHA-256 */

/* Limits. A tree of 2^63 leaves is far beyond any shop (a million entries a day for 25 billion
 * years), and stopping there keeps every proof within MERKLE_PROOF_HASHES_MAX: an inclusion proof
 * has at most ceil(log2 size) <= 63 hashes, a consistency proof at most one more. */
#define MERKLE_TREE_SIZE_MAX (UINT64_C(1) << 63)
#define MERKLE_PROOF_HASHES_MAX 64
#define MERKLE_EDGE_MAX 64 /* perfect subtrees on the right edge: one per set bit of the size */

/* SHA-256(0x00 || data): the hash of one log entry. data may be NULL when len is 0. */
void merkle_leaf_hash(const void *data, size_t len, unsigned char out[MERKLE_HASH_BYTES]);

/* SHA-256(0x01 || left || right): the hash of an interior node. out may alias left or right. */
void merkle_node_hash(const unsigned char left[MERKLE_HASH_BYTES],
                      const unsigned char right[MERKLE_HASH_BYTES],
                      unsigned char out[MERKLE_HASH_BYTES]);

/* SHA-256(""): the root of the empty tree. */
void merkle_empty_root(unsigned char out[MERKLE_HASH_BYTES]);

/* The root of the tree over count leaf hashes stored back to back at leaf_hashes (count *
 * MERKLE_HASH_BYTES bytes): the batch computation, in O(log count) stack and no allocation.
 * count may be 0 (the empty root); count <= MERKLE_TREE_SIZE_MAX. */
void merkle_root(const unsigned char *leaf_hashes, uint64_t count,
                 unsigned char out[MERKLE_HASH_BYTES]);

/* An append-only tree kept as its right edge: the roots of the perfect subtrees that make up
 * [0, size), one per set bit of size, the largest (leftmost) first. Appending costs at most
 * log2(size) node hashes and the root at most as many; the state is a few kilobytes of caller
 * storage. This is what the service keeps as the log grows. */
struct merkle_builder {
    uint64_t size;
    unsigned char edge[MERKLE_EDGE_MAX][MERKLE_HASH_BYTES];
};

/* Where proofs and a restored builder get their hashes: a store of the log. subtree_hash fills
 * out with the hash of the perfect subtree over leaves [begin, end), where end - begin is a
 * power of two 2^k and begin is a multiple of 2^k (for k = 0, the leaf hash of entry begin).
 * Such a hash never changes as the log grows, so a store may keep it once computed. The callback
 * returns 0, or a negative -KM_… code after filling e; the error is passed on to the caller. */
struct merkle_source {
    int (*subtree_hash)(void *ctx, uint64_t begin, uint64_t end,
                        unsigned char out[MERKLE_HASH_BYTES], struct km_error *e);
    void *ctx;
};

/* A proof: count hashes, ordered from the leaf (or the older tree) towards the root. Generated
 * here, or filled from outside for verification (merkle_verify_*_bytes does that). */
struct merkle_proof {
    size_t count;
    unsigned char hashes[MERKLE_PROOF_HASHES_MAX][MERKLE_HASH_BYTES];
};

/* Start an empty tree. */
void merkle_builder_init(struct merkle_builder *b);

/* Append one leaf hash. The size must be below MERKLE_TREE_SIZE_MAX (asserted: unreachable). */
void merkle_builder_append(struct merkle_builder *b,
                           const unsigned char leaf_hash[MERKLE_HASH_BYTES]);

/* The root of the tree as it stands: the empty root while size is 0. */
void merkle_builder_root(const struct merkle_builder *b, unsigned char out[MERKLE_HASH_BYTES]);

/* Rebuild the right edge of a tree of size leaves from a store (at most 63 subtree hashes), for
 * a service starting over an existing log. -KM_EINVAL when size is over MERKLE_TREE_SIZE_MAX;
 * the source's error otherwise. *b is unchanged on error. */
KM_MUST_USE int merkle_builder_restore(struct merkle_builder *b, uint64_t size,
                                       const struct merkle_source *src, struct km_error *e);

/* The audit path of leaf index in the tree of size leaves (RFC 9162 §2.1.3.1). -KM_EINVAL when
 * index >= size or size > MERKLE_TREE_SIZE_MAX; the source's error otherwise. Asks the source
 * for at most 2 log2(size) subtree hashes (only one sibling on the path can be an incomplete
 * subtree, built from its perfect parts) and hashes as many nodes. */
KM_MUST_USE int merkle_prove_inclusion(uint64_t index, uint64_t size,
                                       const struct merkle_source *src, struct merkle_proof *out,
                                       struct km_error *e);

/* The consistency proof from the tree of size1 leaves to the tree of size2 (RFC 9162
 * §2.1.4.1): empty when the sizes are equal. -KM_EINVAL unless 0 < size1 <= size2 <=
 * MERKLE_TREE_SIZE_MAX (every tree extends the empty one, and no proof can say more); the
 * source's error otherwise. Costs O(log size2), as inclusion does. */
KM_MUST_USE int merkle_prove_consistency(uint64_t size1, uint64_t size2,
                                         const struct merkle_source *src, struct merkle_proof *out,
                                         struct km_error *e);

/* Verify that leaf_hash is entry index of the tree of size leaves whose root is root, given the
 * audit path (RFC 9162 §2.1.3.2). Returns 0 when it does; -KM_EINVAL when the claim is malformed
 * (index >= size, a proof of the wrong length); -KM_ESIGNATURE when the path does not lead to
 * root. */
KM_MUST_USE int merkle_verify_inclusion(uint64_t index, uint64_t size,
                                        const unsigned char leaf_hash[MERKLE_HASH_BYTES],
                                        const struct merkle_proof *proof,
                                        const unsigned char root[MERKLE_HASH_BYTES],
                                        struct km_error *e);

/* Verify that the tree of size2 leaves with root2 extends the tree of size1 leaves with root1
 * (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and equal roots. Returns 0 when it does;
 * -KM_EINVAL when the claim is malformed (size1 > size2, size1 == 0, an empty proof for
 * different sizes, a non-empty one for equal sizes, a proof of the wrong length);
 * -KM_ESIGNATURE when the proof does not lead to both roots. A caller that holds a checkpoint of
 * the empty tree checks its root against merkle_empty_root instead: any tree extends it. */
KM_MUST_USE int merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                          const unsigned char root1[MERKLE_HASH_BYTES],
                                          const unsigned char root2[MERKLE_HASH_BYTES],
                                          const struct merkle_proof *proof, struct km_error *e);

/* A byte string as it arrives from outside (decoded base64 from a receipt, say), not yet known
 * to be a hash. */
struct merkle_bytes {
    const unsigned char *data;
    size_t len;
};

/* merkle_verify_inclusion for hashes of unchecked length: a leaf hash, root or proof element that
 * is not MERKLE_HASH_BYTES long is -KM_EINVAL, with the field named; a proof longer than
 * MERKLE_PROOF_HASHES_MAX likewise. proof may be NULL when proof_count is 0. */
KM_MUST_USE int merkle_verify_inclusion_bytes(uint64_t index, uint64_t size,
                                              struct merkle_bytes leaf_hash,
                                              const struct merkle_bytes *proof, size_t proof_count,
                                              struct merkle_bytes root, struct km_error *e);

/* merkle_verify_consistency for hashes of unchecked length. For equal sizes the proof asserts
 * only that the two roots are the same bytes, so they are compared as byte strings of any
 * length, as the reference implementation does; otherwise every hash must be
 * MERKLE_HASH_BYTES long. */
KM_MUST_USE int merkle_verify_consistency_bytes(uint64_t size1, uint64_t size2,
                                                struct merkle_bytes root1,
                                                struct merkle_bytes root2,
                                                const struct merkle_bytes *proof,
                                                size_t proof_count, struct km_error *e);

#endif
