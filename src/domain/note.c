/* Signed notes (c2sp.org/signed-note, Ed25519) and checkpoint bodies (c2sp.org/tlog-checkpoint).
 * Parsing is strict and bounded: a note is checked as a whole (size, UTF-8, control characters)
 * before any line is read, and every field is checked before a key or signature is used. */
#include "domain/note.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/sha256.h"

_Static_assert(NOTE_PUBLIC_KEY_BYTES == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key");
_Static_assert(NOTE_SECRET_KEY_BYTES == crypto_sign_SECRETKEYBYTES, "libsodium secret key");
_Static_assert(NOTE_SEED_BYTES == crypto_sign_SEEDBYTES, "Ed25519 seed");
_Static_assert(NOTE_SIGNATURE_BYTES == crypto_sign_BYTES, "Ed25519 signature");
_Static_assert(NOTE_KEY_TEXT_BYTES_MAX >= 12 + NOTE_NAME_BYTES_MAX + 1 + 8 + 1 + 44 + 1,
               "a formatted signer key of the longest name fits, with its NUL");
_Static_assert(NOTE_BYTES_MAX >= 16 * (4 + NOTE_NAME_BYTES_MAX + 1 + 92 + 1) + 1024,
               "16 Ed25519 signature lines by keys of the longest names fit beside 1 KiB of text");

/* "— ": U+2014 EM DASH and a space, the start of every signature line. */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_BYTES (sizeof sig_prefix - 1)
static const char private_key_prefix[] = "PRIVATE+KEY+";
#define PRIVATE_KEY_PREFIX_BYTES (sizeof private_key_prefix - 1)
#define KEY_ID_HEX_BYTES 8
#define KEY_BLOB_BYTES (1 + NOTE_PUBLIC_KEY_BYTES) /* signature type, then the key or seed */
#define SIG_BLOB_BYTES (4 + NOTE_SIGNATURE_BYTES)  /* key ID, then the signature */
#define ROOT_BASE64_BYTES 44                       /* 32 bytes, padded */

/* Decode one code point of strict UTF-8 at s[*pos], as Go's utf8.DecodeRune accepts it: no
 * overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequence. */
static bool utf8_next(const unsigned char *s, size_t len, size_t *pos, uint32_t *cp)
{
    km_assert(*pos < len);
    unsigned char lead = s[*pos];
    if (lead < 0x80) {
        *cp = lead;
        *pos += 1;
        return true;
    }
    size_t follow;
    uint32_t value;
    uint32_t min;
    if ((lead & 0xE0) == 0xC0) {
        follow = 1;
        value = (uint32_t)(lead & 0x1F);
        min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        follow = 2;
        value = (uint32_t)(lead & 0x0F);
        min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        follow = 3;
        value = (uint32_t)(lead & 0x07);
        min = 0x10000;
    } else {
        return false;
    }
    if (len - *pos <= follow) {
        return false;
    }
    for (size_t i = 1; i <= follow; i++) {
        unsigned char c = s[*pos + i];
        if ((c & 0xC0) != 0x80) {
            return false;
        }
        value = (value << 6) | (uint32_t)(c & 0x3F);
    }
    if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return false;
    }
    *cp = value;
    *pos += follow + 1;
    return true;
}

/* What the spec allows anywhere in a note: valid UTF-8, no control character but newline. */
static bool text_valid(const char *s, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        uint32_t cp = 0;
        if (!utf8_next((const unsigned char *)s, len, &pos, &cp)) {
            return false;
        }
        if (cp < 0x20 && cp != '\n') {
            return false;
        }
    }
    return true;
}

/* Unicode White_Space, as Go's unicode.IsSpace has it. */
static bool is_unicode_space(uint32_t cp)
{
    switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

/* The spec's rule for key names, without our length limit: a signature line from someone
 * else's key may carry a longer name, which is merely unknown, not malformed. */
static bool name_chars_valid(const char *name, size_t len)
{
    if (len == 0) {
        return false;
    }
    size_t pos = 0;
    while (pos < len) {
        uint32_t cp = 0;
        if (!utf8_next((const unsigned char *)name, len, &pos, &cp)) {
            return false;
        }
        if (cp < 0x20 || cp == '+' || is_unicode_space(cp)) {
            return false;
        }
    }
    return true;
}

bool note_name_valid(const char *name, size_t len)
{
    km_assert(name != NULL || len == 0);
    return len <= NOTE_NAME_BYTES_MAX && name_chars_valid(name, len);
}

uint32_t note_key_id(const char *name, const unsigned char public_key[NOTE_PUBLIC_KEY_BYTES])
{
    km_assert(name != NULL);
    km_assert(public_key != NULL);
    static const unsigned char separator[2] = {'\n', NOTE_SIGNATURE_TYPE_ED25519};
    uint8_t digest[KM_SHA256_BYTES];
    struct km_sha256 state;
    km_sha256_init(&state);
    km_sha256_update(&state, name, strlen(name));
    km_sha256_update(&state, separator, sizeof separator);
    km_sha256_update(&state, public_key, NOTE_PUBLIC_KEY_BYTES);
    km_sha256_final(&state, digest);
    return (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 | (uint32_t)digest[2] << 8 |
           (uint32_t)digest[3];
}

static bool is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

/* Strict standard base64 (RFC 4648 §4) of all of s[0, len): padded, canonical, nothing else.
 * The alphabet is checked here first: libsodium 1.0.18 decodes some bytes above 0x7f as if they
 * were base64 digits (found by tests/fuzz/fuzz_checkpoint.c). */
static bool base64_decode(const char *s, size_t len, unsigned char *out, size_t out_max,
                          size_t *out_len)
{
    *out_len = 0;
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_base64_char(s[i])) {
            return false;
        }
    }
    return sodium_base642bin(out, out_max, s, len, NULL, out_len, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0;
}

static bool hex_key_id(const char *s, size_t len, uint32_t *out)
{
    if (len != KEY_ID_HEX_BYTES) {
        return false;
    }
    uint32_t value = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        uint32_t digit;
        if (c >= '0' && c <= '9') {
            digit = (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            digit = (uint32_t)(c - 'A' + 10);
        } else {
            return false;
        }
        value = value << 4 | digit;
    }
    *out = value;
    return true;
}

/* The "<name>+<hex key id>+<base64(type || key)>" shared by both key forms. The name ends at the
 * first '+' and the ID at the next; the base64 after it may itself contain '+'. */
static int key_fields_parse(const char *text, size_t len, char name[NOTE_NAME_BYTES_MAX + 1],
                            uint32_t *key_id, unsigned char key[NOTE_PUBLIC_KEY_BYTES],
                            struct km_error *e)
{
    const char *plus1 = memchr(text, '+', len);
    const char *plus2 =
        plus1 == NULL ? NULL : memchr(plus1 + 1, '+', len - (size_t)(plus1 + 1 - text));
    if (plus2 == NULL) {
        return km_fail(e, KM_EINVAL, "key_malformed", "key",
                       "a key is <name>+<key id>+<key>, separated by '+'");
    }
    size_t name_len = (size_t)(plus1 - text);
    if (!note_name_valid(text, name_len)) {
        return km_fail(e, KM_EINVAL, "key_name_invalid", "key",
                       "a key name is 1 to %d bytes of UTF-8 without spaces, '+' or controls",
                       NOTE_NAME_BYTES_MAX);
    }
    if (!hex_key_id(plus1 + 1, (size_t)(plus2 - plus1 - 1), key_id)) {
        return km_fail(e, KM_EINVAL, "key_malformed", "key", "a key ID is 8 hexadecimal digits");
    }
    unsigned char blob[KEY_BLOB_BYTES];
    size_t blob_len = 0;
    const char *b64 = plus2 + 1;
    bool decoded = base64_decode(b64, len - (size_t)(b64 - text), blob, sizeof blob, &blob_len);
    int rc = 0;
    if (!decoded || blob_len == 0) {
        rc = km_fail(e, KM_EINVAL, "key_malformed", "key", "the key is not valid base64");
    } else if (blob[0] != NOTE_SIGNATURE_TYPE_ED25519) {
        rc = km_fail(e, KM_EINVAL, "key_type_unsupported", "key",
                     "only Ed25519 keys (type 0x01) are supported, not type 0x%02x", blob[0]);
    } else if (blob_len != KEY_BLOB_BYTES) {
        rc = km_fail(e, KM_EINVAL, "key_malformed", "key", "an Ed25519 key is %d bytes, not %zu",
                     NOTE_PUBLIC_KEY_BYTES, blob_len - 1);
    } else {
        memcpy(name, text, name_len);
        name[name_len] = '\0';
        memcpy(key, blob + 1, NOTE_PUBLIC_KEY_BYTES);
    }
    sodium_memzero(blob, sizeof blob);
    return rc;
}

/* Key files end in a newline; take one off, and bound the rest. */
static int key_text_trim(const char *text, size_t *len, struct km_error *e)
{
    km_assert(text != NULL);
    if (*len > 0 && text[*len - 1] == '\n') {
        (*len)--;
    }
    if (*len > NOTE_KEY_TEXT_BYTES_MAX) {
        return km_fail(e, KM_EINVAL, "key_malformed", "key", "a key is at most %d bytes",
                       NOTE_KEY_TEXT_BYTES_MAX);
    }
    return 0;
}

static int key_id_mismatch(struct km_error *e)
{
    return km_fail(e, KM_EINVAL, "key_id_mismatch", "key",
                   "the key ID does not match the key's name and public key");
}

int note_verifier_parse(const char *text, size_t len, struct note_verifier *out, struct km_error *e)
{
    km_assert(out != NULL);
    memset(out, 0, sizeof *out);
    int rc = key_text_trim(text, &len, e);
    if (rc != 0) {
        return rc;
    }
    struct note_verifier v;
    memset(&v, 0, sizeof v);
    rc = key_fields_parse(text, len, v.name, &v.key_id, v.public_key, e);
    if (rc != 0) {
        return rc;
    }
    if (note_key_id(v.name, v.public_key) != v.key_id) {
        return key_id_mismatch(e);
    }
    *out = v;
    return 0;
}

int note_signer_parse(const char *text, size_t len, struct note_signer *out, struct km_error *e)
{
    km_assert(out != NULL);
    memset(out, 0, sizeof *out);
    int rc = key_text_trim(text, &len, e);
    if (rc != 0) {
        return rc;
    }
    if (len < PRIVATE_KEY_PREFIX_BYTES ||
        memcmp(text, private_key_prefix, PRIVATE_KEY_PREFIX_BYTES) != 0) {
        return km_fail(e, KM_EINVAL, "key_malformed", "key",
                       "a signer key starts with PRIVATE+KEY+");
    }
    unsigned char seed[NOTE_SEED_BYTES];
    rc = key_fields_parse(text + PRIVATE_KEY_PREFIX_BYTES, len - PRIVATE_KEY_PREFIX_BYTES,
                          out->name, &out->key_id, seed, e);
    if (rc == 0) {
        crypto_sign_seed_keypair(out->public_key, out->secret_key, seed);
        if (note_key_id(out->name, out->public_key) != out->key_id) {
            rc = key_id_mismatch(e);
        }
    }
    sodium_memzero(seed, sizeof seed);
    if (rc != 0) {
        note_signer_release(out);
    }
    return rc;
}

int note_signer_generate(const char *name, struct note_signer *out, struct km_error *e)
{
    km_assert(name != NULL);
    km_assert(out != NULL);
    memset(out, 0, sizeof *out);
    size_t name_len = strlen(name);
    if (!note_name_valid(name, name_len)) {
        return km_fail(e, KM_EINVAL, "key_name_invalid", "name",
                       "a key name is 1 to %d bytes of UTF-8 without spaces, '+' or controls",
                       NOTE_NAME_BYTES_MAX);
    }
    memcpy(out->name, name, name_len + 1);
    crypto_sign_keypair(out->public_key, out->secret_key);
    out->key_id = note_key_id(out->name, out->public_key);
    return 0;
}

void note_signer_verifier(const struct note_signer *s, struct note_verifier *out)
{
    km_assert(s != NULL);
    km_assert(out != NULL);
    memset(out, 0, sizeof *out);
    memcpy(out->name, s->name, sizeof out->name);
    out->key_id = s->key_id;
    memcpy(out->public_key, s->public_key, sizeof out->public_key);
}

void note_signer_release(struct note_signer *s)
{
    if (s != NULL) {
        sodium_memzero(s, sizeof *s);
    }
}

/* "<prefix><name>+<key id>+<base64(0x01 || key)>" into out, NUL-terminated. */
static int key_format(const char *prefix, const char *name, uint32_t key_id,
                      const unsigned char key[NOTE_PUBLIC_KEY_BYTES], char *out, size_t out_size,
                      struct km_error *e)
{
    km_assert(out != NULL);
    unsigned char blob[KEY_BLOB_BYTES];
    blob[0] = NOTE_SIGNATURE_TYPE_ED25519;
    memcpy(blob + 1, key, NOTE_PUBLIC_KEY_BYTES);
    char b64[sodium_base64_ENCODED_LEN(KEY_BLOB_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(out, out_size, "%s%s+%08x+%s", prefix, name, (unsigned)key_id, b64);
    sodium_memzero(blob, sizeof blob);
    sodium_memzero(b64, sizeof b64);
    km_assert(n > 0);
    if ((size_t)n >= out_size) {
        sodium_memzero(out, out_size);
        return km_fail(e, KM_EINVAL, "buffer_too_small", "out",
                       "a key needs %d bytes of buffer, %zu given", n + 1, out_size);
    }
    return 0;
}

int note_verifier_format(const struct note_verifier *v, char *out, size_t out_size,
                         struct km_error *e)
{
    km_assert(v != NULL);
    return key_format("", v->name, v->key_id, v->public_key, out, out_size, e);
}

int note_signer_format(const struct note_signer *s, char *out, size_t out_size, struct km_error *e)
{
    km_assert(s != NULL);
    unsigned char seed[NOTE_SEED_BYTES];
    crypto_sign_ed25519_sk_to_seed(seed, s->secret_key);
    int rc = key_format(private_key_prefix, s->name, s->key_id, seed, out, out_size, e);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int note_sign(const struct note_signer *s, const char *text, size_t text_len, char *out,
              size_t out_size, size_t *out_len, struct km_error *e)
{
    km_assert(s != NULL);
    km_assert(text != NULL || text_len == 0);
    km_assert(out != NULL);
    km_assert(out_len != NULL);
    *out_len = 0;
    if (text_len == 0 || text[text_len - 1] != '\n') {
        return km_fail(e, KM_EINVAL, "text_invalid", "text",
                       "a note's text must be non-empty and end in a newline");
    }
    if (text_len > NOTE_BYTES_MAX) {
        return km_fail(e, KM_ETOOLARGE, "note_too_large", "text", "a note is at most %d bytes",
                       NOTE_BYTES_MAX);
    }
    if (!text_valid(text, text_len)) {
        return km_fail(e, KM_EINVAL, "text_invalid", "text",
                       "a note's text must be UTF-8 without control characters but newline");
    }
    unsigned char blob[SIG_BLOB_BYTES];
    blob[0] = (unsigned char)(s->key_id >> 24);
    blob[1] = (unsigned char)(s->key_id >> 16);
    blob[2] = (unsigned char)(s->key_id >> 8);
    blob[3] = (unsigned char)s->key_id;
    crypto_sign_detached(blob + 4, NULL, (const unsigned char *)text, text_len, s->secret_key);
    char b64[sodium_base64_ENCODED_LEN(SIG_BLOB_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);

    /* text, the blank line, then "— <name> <base64>\n". */
    size_t name_len = strlen(s->name);
    size_t b64_len = strlen(b64);
    size_t total = text_len + 1 + SIG_PREFIX_BYTES + name_len + 1 + b64_len + 1;
    if (total > NOTE_BYTES_MAX || total >= out_size) {
        return km_fail(e, KM_ETOOLARGE, "note_too_large", "text",
                       "the signed note needs %zu bytes (limit %d, buffer %zu)", total + 1,
                       NOTE_BYTES_MAX, out_size);
    }
    char *p = out;
    memcpy(p, text, text_len);
    p += text_len;
    *p++ = '\n';
    memcpy(p, sig_prefix, SIG_PREFIX_BYTES);
    p += SIG_PREFIX_BYTES;
    memcpy(p, s->name, name_len);
    p += name_len;
    *p++ = ' ';
    memcpy(p, b64, b64_len);
    p += b64_len;
    *p++ = '\n';
    *p = '\0';
    km_assert((size_t)(p - out) == total);
    *out_len = total;
    return 0;
}

static int note_malformed(struct km_error *e, const char *why)
{
    return km_fail(e, KM_EINVAL, "note_malformed", "note", "the note is malformed: %s", why);
}

/* The known key with this name and ID, or -1: both must match. */
static int known_find(const struct note_verifier *known, int known_count, const char *name,
                      size_t name_len, uint32_t key_id)
{
    for (int i = 0; i < known_count; i++) {
        if (known[i].key_id == key_id && strlen(known[i].name) == name_len &&
            memcmp(known[i].name, name, name_len) == 0) {
            return i;
        }
    }
    return -1;
}

/* Verify one signature line (without its newline) against the text. */
static int signature_line_check(const char *line, size_t line_len, const char *text,
                                size_t text_len, const struct note_verifier *known, int known_count,
                                struct note_opened *out, struct km_error *e)
{
    if (line_len < SIG_PREFIX_BYTES || memcmp(line, sig_prefix, SIG_PREFIX_BYTES) != 0) {
        return note_malformed(e, "a signature line must start with an em dash and a space");
    }
    const char *name = line + SIG_PREFIX_BYTES;
    size_t rest_len = line_len - SIG_PREFIX_BYTES;
    const char *space = memchr(name, ' ', rest_len);
    if (space == NULL) {
        return note_malformed(e, "a signature line is a key name, a space and base64");
    }
    size_t name_len = (size_t)(space - name);
    const char *b64 = space + 1;
    size_t b64_len = rest_len - name_len - 1;
    if (!name_chars_valid(name, name_len)) {
        return note_malformed(e, "a signature's key name is empty or has a space or '+'");
    }
    /* The whole note is at most NOTE_BYTES_MAX, so its decoded signatures are shorter. */
    unsigned char blob[NOTE_BYTES_MAX];
    size_t blob_len = 0;
    if (!base64_decode(b64, b64_len, blob, sizeof blob, &blob_len) || blob_len < 5) {
        return note_malformed(e, "a signature is not base64 of a key ID and a signature");
    }
    uint32_t key_id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 |
                      (uint32_t)blob[3];
    int index = known_find(known, known_count, name, name_len, key_id);
    if (index < 0) {
        return 0; /* someone else's signature: ignored, as the spec requires */
    }
    if (blob_len != SIG_BLOB_BYTES ||
        crypto_sign_verify_detached(blob + 4, (const unsigned char *)text, text_len,
                                    known[index].public_key) != 0) {
        return km_fail(e, KM_ESIGNATURE, "signature_invalid", "note",
                       "the signature by %s does not verify", known[index].name);
    }
    for (int i = 0; i < out->verified_count; i++) {
        if (out->verified_by[i] == index) {
            return 0;
        }
    }
    km_assert(out->verified_count < NOTE_SIGNATURES_MAX);
    out->verified_by[out->verified_count++] = index;
    return 0;
}

int note_open(const char *msg, size_t len, const struct note_verifier *known, int known_count,
              struct note_opened *out, struct km_error *e)
{
    km_assert(msg != NULL || len == 0);
    km_assert(known != NULL || known_count == 0);
    km_assert(known_count >= 0);
    km_assert(out != NULL);
    memset(out, 0, sizeof *out);
    if (len > NOTE_BYTES_MAX) {
        return km_fail(e, KM_ETOOLARGE, "note_too_large", "note", "a note is at most %d bytes",
                       NOTE_BYTES_MAX);
    }
    if (!text_valid(msg, len)) {
        return note_malformed(e, "not UTF-8, or a control character other than newline");
    }
    /* The text ends at the last blank line: signature lines are never empty. */
    size_t split = len;
    for (size_t i = len; i >= 2; i--) {
        if (msg[i - 2] == '\n' && msg[i - 1] == '\n') {
            split = i - 2;
            break;
        }
    }
    if (split == len) {
        return note_malformed(e, "no blank line between the text and the signatures");
    }
    size_t text_len = split + 1;
    const char *sigs = msg + split + 2;
    size_t sigs_len = len - split - 2;
    if (sigs_len == 0 || sigs[sigs_len - 1] != '\n') {
        return note_malformed(e, "the signatures must be lines ending in a newline");
    }

    struct note_opened found;
    memset(&found, 0, sizeof found);
    found.text_len = text_len;
    size_t pos = 0;
    while (pos < sigs_len) {
        const char *newline = memchr(sigs + pos, '\n', sigs_len - pos);
        km_assert(newline != NULL); /* the block ends in a newline */
        size_t line_len = (size_t)(newline - (sigs + pos));
        if (found.signature_count == NOTE_SIGNATURES_MAX) {
            return km_fail(e, KM_ETOOLARGE, "note_too_many_signatures", "note",
                           "a note has at most %d signatures", NOTE_SIGNATURES_MAX);
        }
        found.signature_count++;
        int rc = signature_line_check(sigs + pos, line_len, msg, text_len, known, known_count,
                                      &found, e);
        if (rc != 0) {
            return rc;
        }
        pos += line_len + 1;
    }
    if (found.verified_count == 0) {
        return km_fail(e, KM_ESIGNATURE, "note_unverified", "note",
                       "the note carries no signature by a known key");
    }
    *out = found;
    return 0;
}

int note_checkpoint_format(const char *origin, uint64_t size,
                           const unsigned char root[MERKLE_HASH_BYTES], char *out, size_t out_size,
                           size_t *out_len, struct km_error *e)
{
    km_assert(origin != NULL);
    km_assert(root != NULL);
    km_assert(out != NULL);
    km_assert(out_len != NULL);
    *out_len = 0;
    if (!note_name_valid(origin, strlen(origin))) {
        return km_fail(e, KM_EINVAL, "origin_invalid", "origin",
                       "an origin is 1 to %d bytes of UTF-8 without spaces, '+' or controls",
                       NOTE_NAME_BYTES_MAX);
    }
    if (size > MERKLE_TREE_SIZE_MAX) {
        return km_fail(e, KM_EINVAL, "tree_size_too_large", "size",
                       "a tree cannot hold more than 2^63 entries");
    }
    char b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, root, MERKLE_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(out, out_size, "%s\n%llu\n%s\n", origin, (unsigned long long)size, b64);
    km_assert(n > 0);
    if ((size_t)n >= out_size) {
        return km_fail(e, KM_EINVAL, "buffer_too_small", "out",
                       "a checkpoint needs %d bytes of buffer, %zu given", n + 1, out_size);
    }
    *out_len = (size_t)n;
    return 0;
}

static int checkpoint_malformed(struct km_error *e, const char *param, const char *why)
{
    return km_fail(e, KM_EINVAL, "checkpoint_malformed", param, "the checkpoint is malformed: %s",
                   why);
}

/* A decimal tree size: digits only, no leading zero but in "0", within MERKLE_TREE_SIZE_MAX. */
static bool tree_size_parse(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0')) {
        return false;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, (uint64_t)(s[i] - '0'), &value)) {
            return false;
        }
    }
    if (value > MERKLE_TREE_SIZE_MAX) {
        return false;
    }
    *out = value;
    return true;
}

int note_checkpoint_parse(const char *text, size_t len, struct note_checkpoint *out,
                          struct km_error *e)
{
    km_assert(text != NULL || len == 0);
    km_assert(out != NULL);
    memset(out, 0, sizeof *out);
    if (len > NOTE_BYTES_MAX) {
        return km_fail(e, KM_ETOOLARGE, "note_too_large", "checkpoint",
                       "a checkpoint is at most %d bytes", NOTE_BYTES_MAX);
    }
    const char *end = text + len;
    const char *origin_end = memchr(text, '\n', len);
    if (origin_end == NULL) {
        return checkpoint_malformed(e, "origin", "the origin line does not end in a newline");
    }
    size_t origin_len = (size_t)(origin_end - text);
    if (!note_name_valid(text, origin_len)) {
        return checkpoint_malformed(e, "origin", "the origin is not a valid key name");
    }
    const char *size_text = origin_end + 1;
    const char *size_end = memchr(size_text, '\n', (size_t)(end - size_text));
    uint64_t size = 0;
    if (size_end == NULL || !tree_size_parse(size_text, (size_t)(size_end - size_text), &size)) {
        return checkpoint_malformed(e, "size",
                                    "the size is not a decimal line without leading "
                                    "zeros, at most 2^63");
    }
    const char *root_text = size_end + 1;
    const char *root_end = memchr(root_text, '\n', (size_t)(end - root_text));
    unsigned char root[MERKLE_HASH_BYTES];
    size_t root_len = 0;
    if (root_end == NULL || (size_t)(root_end - root_text) != ROOT_BASE64_BYTES ||
        !base64_decode(root_text, ROOT_BASE64_BYTES, root, sizeof root, &root_len) ||
        root_len != MERKLE_HASH_BYTES) {
        return checkpoint_malformed(e, "root", "the root is not a base64 line of 32 bytes");
    }
    if (root_end + 1 != end) {
        return checkpoint_malformed(e, "checkpoint", "extension lines are not supported");
    }
    memcpy(out->origin, text, origin_len);
    out->origin[origin_len] = '\0';
    out->size = size;
    memcpy(out->root, root, sizeof root);
    return 0;
}
