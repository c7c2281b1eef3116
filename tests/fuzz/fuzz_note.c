/* libFuzzer target for domain/note: arbitrary bytes as a signed note, as verifier and signer keys,
 * and as a text to sign, checking that signing then opening always round-trips and that changing
 * any one byte of a signed note makes it fail. Build and run with tests/fuzz/run.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "domain/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed key made for fuzzing only (seed 0x42 * 32): public test material. */
static struct note_signer signer;
static struct note_verifier verifiers[2];

static void keys_setup(void)
{
    static int ready;
    if (ready) {
        return;
    }
    if (sodium_init() < 0) {
        abort();
    }
    unsigned char seed[NOTE_SEED_BYTES];
    memset(seed, 0x42, sizeof seed);
    memcpy(signer.name, "fuzz.example/log", sizeof "fuzz.example/log");
    crypto_sign_seed_keypair(signer.public_key, signer.secret_key, seed);
    signer.key_id = note_key_id(signer.name, signer.public_key);
    note_signer_verifier(&signer, &verifiers[0]);
    /* A second known key with the same name, so both lookups are exercised. It must be a key of
     * its own: the same public key under another ID verified a note whose key ID had one bit
     * flipped, which is no forgery (the signature covers the text, and a real ID is derived from
     * the name and key, see note_key_id). */
    struct note_signer other = signer;
    memset(seed, 0x43, sizeof seed);
    crypto_sign_seed_keypair(other.public_key, other.secret_key, seed);
    other.key_id = note_key_id(other.name, other.public_key);
    note_signer_verifier(&other, &verifiers[1]);
    sodium_memzero(other.secret_key, sizeof other.secret_key);
    ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keys_setup();
    const char *text = (const char *)data;
    struct km_error e;
    struct note_opened opened;

    /* As a note from outside. */
    if (note_open(text, size, verifiers, 2, &opened, &e) == 0) {
        if (opened.text_len == 0 || opened.text_len >= size || opened.verified_count < 1) {
            abort();
        }
    }

    /* As keys. */
    struct note_verifier v;
    if (note_verifier_parse(text, size, &v, &e) == 0) {
        char back[NOTE_KEY_TEXT_BYTES_MAX];
        if (note_verifier_format(&v, back, sizeof back, &e) != 0) {
            abort();
        }
    }
    struct note_signer s;
    if (note_signer_parse(text, size, &s, &e) == 0) {
        char back[NOTE_KEY_TEXT_BYTES_MAX];
        if (note_signer_format(&s, back, sizeof back, &e) != 0) {
            abort();
        }
    }
    note_signer_release(&s);

    /* As a text to sign: what we sign we must open, and no one changed byte may verify. */
    static char note[NOTE_BYTES_MAX + 1];
    size_t note_len = 0;
    if (note_sign(&signer, text, size, note, sizeof note, &note_len, &e) == 0) {
        if (note_open(note, note_len, verifiers, 2, &opened, &e) != 0) {
            abort();
        }
        if (opened.text_len != size || memcmp(note, text, size) != 0 ||
            opened.verified_count != 1 || opened.verified_by[0] != 0) {
            abort();
        }
        size_t at = size > 0 ? (size_t)data[0] * 131 % note_len : 0;
        note[at] ^= (char)(size > 1 ? (data[1] | 1) : 1);
        if (note_open(note, note_len, verifiers, 2, &opened, &e) == 0) {
            abort();
        }
    }
    return 0;
}
