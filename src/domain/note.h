/* C2SP signed notes with Ed25519 (https://c2sp.org/signed-note) and the C2SP tlog-checkpoint
 * body they carry for the evidence log: key parsing and formatting, signing, strict parsing and
 * verification of notes, and checkpoint bodies. Pure: keys and text come in, bytes go out; where
 * the signing key is kept is the service's business. */
#ifndef KM_NOTE_H
#define KM_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "domain/merkle.h"

/* Limits. A kameng checkpoint with its own signature is about 200 bytes and a witness
 * cosignature line about 150; 8 KiB holds the 16 signatures the spec says a verifier must
 * accept with room to spare, and bounds the work an outside note can cause. */
#define NOTE_BYTES_MAX 8192
#define NOTE_SIGNATURES_MAX 32      /* signature lines in one note; the spec asks for at least 16 */
#define NOTE_NAME_BYTES_MAX 128     /* a key name is a schema-less URL such as shop.example/log */
#define NOTE_KEY_TEXT_BYTES_MAX 256 /* "PRIVATE+KEY+" + name + "+" + 8 hex + "+" + 44 base64 */

#define NOTE_PUBLIC_KEY_BYTES 32 /* Ed25519, RFC 8032 */
#define NOTE_SEED_BYTES 32
#define NOTE_SECRET_KEY_BYTES 64 /* libsodium's expanded form: seed || public key */
#define NOTE_SIGNATURE_BYTES 64
#define NOTE_SIGNATURE_TYPE_ED25519 0x01

/* A key that checks signatures: parsed from "<name>+<hex key id>+<base64(0x01 || public key)>". */
struct note_verifier {
    char name[NOTE_NAME_BYTES_MAX + 1];
    uint32_t key_id;
    unsigned char public_key[NOTE_PUBLIC_KEY_BYTES];
};

/* A key that signs: parsed from "PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>". Holds a
 * secret: release it with note_signer_release, never log it. */
struct note_signer {
    char name[NOTE_NAME_BYTES_MAX + 1];
    uint32_t key_id;
    unsigned char public_key[NOTE_PUBLIC_KEY_BYTES];
    unsigned char secret_key[NOTE_SECRET_KEY_BYTES];
};

/* What note_open found. The text is msg[0, text_len), its final newline included. */
struct note_opened {
    size_t text_len;
    int signature_count;                  /* every signature line, known key or not */
    int verified_count;                   /* distinct known keys whose signature verified */
    int verified_by[NOTE_SIGNATURES_MAX]; /* their indexes in the known array, in note order */
};

/* The three lines of a checkpoint body (c2sp.org/tlog-checkpoint). */
struct note_checkpoint {
    char origin[NOTE_NAME_BYTES_MAX + 1];
    uint64_t size;
    unsigned char root[MERKLE_HASH_BYTES];
};

/* True when name[0, len) may name a key: non-empty, at most NOTE_NAME_BYTES_MAX bytes of valid
 * UTF-8 with no control character, no Unicode space and no '+'. */
bool note_name_valid(const char *name, size_t len);

/* SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian: the Ed25519 key ID. */
uint32_t note_key_id(const char *name, const unsigned char public_key[NOTE_PUBLIC_KEY_BYTES]);

/* Parse a verifier key (one optional trailing newline allowed, as in a key file). -KM_EINVAL
 * with reason "key_malformed" for a wrong shape, "key_name_invalid", "key_type_unsupported"
 * for a signature type other than Ed25519, "key_id_mismatch" when the ID does not belong to
 * the name and key. */
KM_MUST_USE int note_verifier_parse(const char *text, size_t len, struct note_verifier *out,
                                    struct km_error *e);

/* Format a verifier key as note_verifier_parse reads it, NUL-terminated, into out[0, out_size).
 * -KM_EINVAL when it does not fit (NOTE_KEY_TEXT_BYTES_MAX always does). */
KM_MUST_USE int note_verifier_format(const struct note_verifier *v, char *out, size_t out_size,
                                     struct km_error *e);

/* Parse a signer key, with the same errors as note_verifier_parse; the key ID is checked against
 * the public key derived from the seed. *out is wiped on error. */
KM_MUST_USE int note_signer_parse(const char *text, size_t len, struct note_signer *out,
                                  struct km_error *e);

/* Make a new signer key for name from the system's randomness (sodium_init must have run).
 * -KM_EINVAL when the name is not valid. */
KM_MUST_USE int note_signer_generate(const char *name, struct note_signer *out, struct km_error *e);

/* Format a signer key as note_signer_parse reads it, NUL-terminated. The output is a secret.
 * -KM_EINVAL when it does not fit (NOTE_KEY_TEXT_BYTES_MAX always does). */
KM_MUST_USE int note_signer_format(const struct note_signer *s, char *out, size_t out_size,
                                   struct km_error *e);

/* The verifier key that matches a signer: what the shop publishes. */
void note_signer_verifier(const struct note_signer *s, struct note_verifier *out);

/* Wipe a signer's secret. NULL is fine. */
void note_signer_release(struct note_signer *s);

/* Sign text[0, text_len) and write the signed note, NUL-terminated, into out[0, out_size), its
 * length (without the NUL) to *out_len. The text must be non-empty valid UTF-8 ending in a
 * newline, with no control character but newline (-KM_EINVAL naming "text"). -KM_ETOOLARGE
 * when the note would be over NOTE_BYTES_MAX or does not fit in out. Ed25519 is deterministic:
 * the same key and text give the same bytes. */
KM_MUST_USE int note_sign(const struct note_signer *s, const char *text, size_t text_len, char *out,
                          size_t out_size, size_t *out_len, struct km_error *e);

/* Parse the signed note msg[0, len) and verify it against the known keys known[0, known_count).
 * The note is text ending in a newline, a blank line, then one or more signature lines
 * "— <name> <base64(key id || signature)>\n"; the text is separated at the last blank line, so
 * it may itself contain blank lines. Signatures by unknown keys (name and ID not both matching a
 * known key) are ignored, as the spec requires; every signature by a known key must verify.
 * Returns 0 with *out filled when at least one known key signed; -KM_ETOOLARGE over
 * NOTE_BYTES_MAX or NOTE_SIGNATURES_MAX; -KM_EINVAL ("note_malformed") for any malformation
 * (invalid UTF-8, a control character, no blank line, text not ending in a newline, a bad
 * signature line or base64, a signature shorter than 5 bytes); -KM_ESIGNATURE
 * ("signature_invalid") when a known key's signature fails or is not 64 bytes,
 * ("note_unverified") when no known key signed. */
KM_MUST_USE int note_open(const char *msg, size_t len, const struct note_verifier *known,
                          int known_count, struct note_opened *out, struct km_error *e);

/* Format a checkpoint body "<origin>\n<size>\n<base64 root>\n", NUL-terminated, into
 * out[0, out_size), its length to *out_len. The origin must be a valid key name (it is also the
 * log's key name) and size at most MERKLE_TREE_SIZE_MAX: -KM_EINVAL otherwise, or when out is too
 * small. */
KM_MUST_USE int note_checkpoint_format(const char *origin, uint64_t size,
                                       const unsigned char root[MERKLE_HASH_BYTES], char *out,
                                       size_t out_size, size_t *out_len, struct km_error *e);

/* Parse a checkpoint body strictly: exactly three lines, each ending in a newline; an origin
 * that is a valid key name; a decimal size without sign or leading zeros (just "0" for the
 * empty tree), at most MERKLE_TREE_SIZE_MAX; a root in canonical padded base64 of exactly 32
 * bytes. Extension lines are refused: kameng never writes them and cannot audit them.
 * -KM_EINVAL naming the field otherwise. */
KM_MUST_USE int note_checkpoint_parse(const char *text, size_t len, struct note_checkpoint *out,
                                      struct km_error *e);

#endif
