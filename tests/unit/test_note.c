/* Unit tests for domain/note: the golang.org/x/mod signed-note known answer (read at test time
 * from ../shared/data/signed-note, or $KAMENG_SIGNED_NOTE_DIR) reproduced byte for byte, every
 * way a note or key can be malformed or tampered with, and strict checkpoint bodies. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "domain/note.h"

#define NOTE_DIR_DEFAULT "../shared/data/signed-note"
#define KAT_TEXT                                                                                   \
    "If you think cryptography is the answer to your problem,\n"                                   \
    "then you don't know what your problem is.\n"

static void sodium_setup(void)
{
    cr_assert_geq(sodium_init(), 0);
}

/* Read a file of the known answer into buf, NUL-terminated; returns its length. */
static size_t kat_read(const char *file, char *buf, size_t size)
{
    const char *dir = getenv("KAMENG_SIGNED_NOTE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir != NULL && dir[0] != '\0' ? dir : NOTE_DIR_DEFAULT,
             file);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f,
                       "cannot open %s: set KAMENG_SIGNED_NOTE_DIR or check out ../shared "
                       "beside the repository",
                       path);
    size_t len = fread(buf, 1, size - 1, f);
    cr_assert_lt(len, size - 1, "%s is unexpectedly large", path);
    fclose(f);
    buf[len] = '\0';
    return len;
}

static void kat_keys(struct note_signer *signer, struct note_verifier *verifier)
{
    char text[512];
    struct km_error e = {0};
    size_t len = kat_read("peterneumann.skey", text, sizeof text);
    cr_assert_eq(note_signer_parse(text, len, signer, &e), 0, "skey: %s", e.message);
    len = kat_read("peterneumann.vkey", text, sizeof text);
    cr_assert_eq(note_verifier_parse(text, len, verifier, &e), 0, "vkey: %s", e.message);
}

/* Sign text with s into out (NOTE_BYTES_MAX + 1 bytes); returns the note's length. */
static size_t sign_text(const struct note_signer *s, const char *text, char *out)
{
    size_t len = 0;
    struct km_error e = {0};
    cr_assert_eq(note_sign(s, text, strlen(text), out, NOTE_BYTES_MAX + 1, &len, &e), 0, "%s",
                 e.message);
    return len;
}

static int open_with(const char *msg, const struct note_verifier *v, int count,
                     struct note_opened *out, struct km_error *e)
{
    return note_open(msg, strlen(msg), v, count, out, e);
}

/* ---------- the known answer ---------- */

Test(note_kat, keys_parse_with_the_known_key_id, .init = sodium_setup)
{
    struct note_signer s;
    struct note_verifier v;
    kat_keys(&s, &v);
    cr_assert_str_eq(v.name, "PeterNeumann");
    cr_assert_eq(v.key_id, 0xc74f20a3u);
    cr_assert_str_eq(s.name, "PeterNeumann");
    cr_assert_eq(s.key_id, 0xc74f20a3u);
    cr_assert_eq(memcmp(s.public_key, v.public_key, NOTE_PUBLIC_KEY_BYTES), 0,
                 "the signer's derived public key is the verifier's");
    cr_assert_eq(note_key_id("PeterNeumann", v.public_key), 0xc74f20a3u);

    /* formatting gives the files back */
    char want[512];
    char got[NOTE_KEY_TEXT_BYTES_MAX];
    struct km_error e = {0};
    size_t len = kat_read("peterneumann.vkey", want, sizeof want);
    want[len - 1] = '\0';
    cr_assert_eq(note_verifier_format(&v, got, sizeof got, &e), 0);
    cr_assert_str_eq(got, want);
    len = kat_read("peterneumann.skey", want, sizeof want);
    want[len - 1] = '\0';
    cr_assert_eq(note_signer_format(&s, got, sizeof got, &e), 0);
    cr_assert_str_eq(got, want);
    note_signer_release(&s);
    cr_assert_eq(s.key_id, 0u);
}

Test(note_kat, signing_reproduces_the_note_byte_for_byte, .init = sodium_setup)
{
    struct note_signer s;
    struct note_verifier v;
    kat_keys(&s, &v);
    char want[1024];
    size_t want_len = kat_read("peterneumann.note", want, sizeof want);
    char got[NOTE_BYTES_MAX + 1];
    size_t got_len = sign_text(&s, KAT_TEXT, got);
    cr_assert_eq(got_len, want_len);
    cr_assert_eq(memcmp(got, want, want_len), 0, "got:\n%s\nwant:\n%s", got, want);
    cr_assert_eq(got[got_len], '\0');
    note_signer_release(&s);
}

Test(note_kat, the_note_verifies, .init = sodium_setup)
{
    struct note_signer s;
    struct note_verifier v;
    kat_keys(&s, &v);
    note_signer_release(&s);
    char msg[1024];
    size_t len = kat_read("peterneumann.note", msg, sizeof msg);
    struct note_opened o;
    struct km_error e = {0};
    cr_assert_eq(note_open(msg, len, &v, 1, &o, &e), 0, "%s", e.message);
    cr_assert_eq(o.text_len, strlen(KAT_TEXT));
    cr_assert_eq(memcmp(msg, KAT_TEXT, o.text_len), 0);
    cr_assert_eq(o.signature_count, 1);
    cr_assert_eq(o.verified_count, 1);
    cr_assert_eq(o.verified_by[0], 0);
}

/* ---------- tampering and unknown keys ---------- */

Test(note_open, tampered_text_is_refused, .init = sodium_setup)
{
    struct note_signer s;
    struct note_verifier v;
    kat_keys(&s, &v);
    note_signer_release(&s);
    char msg[1024];
    kat_read("peterneumann.note", msg, sizeof msg);
    msg[3] = 'Y'; /* "If you" -> "If Yyou"-like change in the text */
    struct note_opened o;
    struct km_error e = {0};
    cr_assert_eq(open_with(msg, &v, 1, &o, &e), -KM_ESIGNATURE);
    cr_assert_str_eq(e.reason, "signature_invalid");
    cr_assert_eq(o.verified_count, 0, "nothing is reported on failure");
}

Test(note_open, tampered_signature_is_refused, .init = sodium_setup)
{
    struct note_signer s;
    struct note_verifier v;
    kat_keys(&s, &v);
    note_signer_release(&s);
    char msg[1024];
    size_t len = kat_read("peterneumann.note", msg, sizeof msg);
    struct note_opened o;
    struct km_error e = {0};
    /* a character in the signature proper (past the key ID's first 6 characters) */
    size_t at = len - 20;
    msg[at] = msg[at] == 'A' ? 'B' : 'A';
    cr_assert_eq(open_with(msg, &v, 1, &o, &e), -KM_ESIGNATURE);
    cr_assert_str_eq(e.reason, "signature_invalid");

    /* a changed key ID makes the signature someone else's: ignored, so nothing verifies */
    kat_read("peterneumann.note", msg, sizeof msg);
    char *sig = strstr(msg, "PeterNeumann ") + strlen("PeterNeumann ");
    sig[1] = sig[1] == 'A' ? 'B' : 'A';
    cr_assert_eq(open_with(msg, &v, 1, &o, &e), -KM_ESIGNATURE);
    cr_assert_str_eq(e.reason, "note_unverified");
}

Test(note_open, a_note_by_an_unknown_key_is_refused, .init = sodium_setup)
{
    struct note_signer peter;
    struct note_verifier peter_v;
    kat_keys(&peter, &peter_v);
    struct note_signer other;
    struct km_error e = {0};
    cr_assert_eq(note_signer_generate("other.example/log", &other, &e), 0);
    char msg[NOTE_BYTES_MAX + 1];
    sign_text(&other, "hello\n", msg);
    struct note_opened o;
    cr_assert_eq(open_with(msg, &peter_v, 1, &o, &e), -KM_ESIGNATURE);
    cr_assert_str_eq(e.reason, "note_unverified");
    cr_assert_eq(open_with(msg, NULL, 0, &o, &e), -KM_ESIGNATURE);

    /* the same name with another key: a different key ID, so unknown too */
    struct note_signer impostor;
    cr_assert_eq(note_signer_generate("PeterNeumann", &impostor, &e), 0);
    cr_assert_neq(impostor.key_id, peter.key_id);
    sign_text(&impostor, KAT_TEXT, msg);
    cr_assert_eq(open_with(msg, &peter_v, 1, &o, &e), -KM_ESIGNATURE);
    cr_assert_str_eq(e.reason, "note_unverified");

    /* the same name and key ID but another key: a known key whose signature fails */
    struct note_verifier forged = peter_v;
    memcpy(forged.public_key, impostor.public_key, NOTE_PUBLIC_KEY_BYTES);
    sign_text(&peter, KAT_TEXT, msg);
    cr_assert_eq(open_with(msg, &forged, 1, &o, &e), -KM_ESIGNATURE);
    cr_assert_str_eq(e.reason, "signature_invalid");
    note_signer_release(&peter);
    note_signer_release(&other);
    note_signer_release(&impostor);
}

Test(note_open, unknown_signatures_beside_a_known_one_are_ignored, .init = sodium_setup)
{
    struct note_signer peter;
    struct note_verifier peter_v;
    kat_keys(&peter, &peter_v);
    struct note_signer other;
    struct km_error e = {0};
    cr_assert_eq(note_signer_generate("witness.example/w1", &other, &e), 0);
    struct note_verifier other_v;
    note_signer_verifier(&other, &other_v);

    char by_peter[NOTE_BYTES_MAX + 1];
    char by_other[NOTE_BYTES_MAX + 1];
    size_t peter_len = sign_text(&peter, KAT_TEXT, by_peter);
    sign_text(&other, KAT_TEXT, by_other);
    /* both signature lines under one text, and Peter's line twice */
    char msg[3 * (NOTE_BYTES_MAX + 1)];
    const char *other_line = by_other + strlen(KAT_TEXT) + 1;
    const char *peter_line = by_peter + strlen(KAT_TEXT) + 1;
    snprintf(msg, sizeof msg, "%s%s%s", by_peter, other_line, peter_line);
    cr_assert_gt(strlen(msg), peter_len);

    struct note_opened o;
    cr_assert_eq(open_with(msg, &peter_v, 1, &o, &e), 0, "%s", e.message);
    cr_assert_eq(o.signature_count, 3);
    cr_assert_eq(o.verified_count, 1, "a key that signs twice counts once");

    struct note_verifier both[2] = {other_v, peter_v};
    cr_assert_eq(open_with(msg, both, 2, &o, &e), 0, "%s", e.message);
    cr_assert_eq(o.verified_count, 2);
    cr_assert_eq(o.verified_by[0], 1);
    cr_assert_eq(o.verified_by[1], 0);
    note_signer_release(&peter);
    note_signer_release(&other);
}

/* ---------- the text and its blank lines ---------- */

Test(note_open, texts_with_blank_lines_round_trip, .init = sodium_setup)
{
    struct note_signer s;
    struct note_verifier v;
    kat_keys(&s, &v);
    static const char *const texts[] = {
        "a\n\nb\n",                              /* a blank line inside */
        "a\n\n",                                 /* ending in a blank line */
        "\n",                                    /* only a newline */
        "x\n\n\xe2\x80\x94 PeterNeumann AAAA\n", /* a line that looks like a signature */
        "ed \xc3\xa8 subito sera.\n",            /* UTF-8 */
    };
    char msg[NOTE_BYTES_MAX + 1];
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sign_text(&s, texts[i], msg);
        struct note_opened o;
        struct km_error e = {0};
        cr_assert_eq(open_with(msg, &v, 1, &o, &e), 0, "text %zu: %s", i, e.message);
        cr_assert_eq(o.text_len, strlen(texts[i]), "text %zu", i);
        cr_assert_eq(memcmp(msg, texts[i], o.text_len), 0);
    }
    note_signer_release(&s);
}

Test(note_sign, bad_texts_are_refused, .init = sodium_setup)
{
    struct note_signer s;
    struct note_verifier v;
    kat_keys(&s, &v);
    char out[NOTE_BYTES_MAX + 1];
    size_t len = 99;
    struct km_error e = {0};
    cr_assert_eq(note_sign(&s, "", 0, out, sizeof out, &len, &e), -KM_EINVAL);
    cr_assert_eq(len, 0);
    cr_assert_eq(note_sign(&s, "no newline", 10, out, sizeof out, &len, &e), -KM_EINVAL);
    cr_assert_str_eq(e.param, "text");
    cr_assert_eq(note_sign(&s, "tab\there\n", 9, out, sizeof out, &len, &e), -KM_EINVAL);
    cr_assert_eq(note_sign(&s, "cr\r\n", 4, out, sizeof out, &len, &e), -KM_EINVAL);
    cr_assert_eq(note_sign(&s, "bad \xff utf8\n", 11, out, sizeof out, &len, &e), -KM_EINVAL);
    cr_assert_eq(note_sign(&s, "nul\0inside\n", 11, out, sizeof out, &len, &e), -KM_EINVAL);
    /* too large for the limit, or for the buffer */
    static char big[NOTE_BYTES_MAX + 2];
    memset(big, 'a', sizeof big);
    big[NOTE_BYTES_MAX - 10] = '\n';
    cr_assert_eq(note_sign(&s, big, NOTE_BYTES_MAX - 9, out, sizeof out, &len, &e), -KM_ETOOLARGE);
    cr_assert_eq(note_sign(&s, KAT_TEXT, strlen(KAT_TEXT), out, 150, &len, &e), -KM_ETOOLARGE);
    note_signer_release(&s);
}

/* ---------- malformed notes ---------- */

static void expect_malformed(const struct note_verifier *v, const char *msg, size_t len,
                             int want_rc, const char *what)
{
    struct note_opened o;
    struct km_error e = {0};
    int rc = note_open(msg, len, v, 1, &o, &e);
    cr_expect_eq(rc, want_rc, "%s: rc %d (%s)", what, rc, e.message);
}

Test(note_open, malformed_notes_are_refused, .init = sodium_setup)
{
    struct note_signer s;
    struct note_verifier v;
    kat_keys(&s, &v);
    char good[NOTE_BYTES_MAX + 1];
    size_t good_len = sign_text(&s, KAT_TEXT, good);
    const char *sig_line = good + strlen(KAT_TEXT) + 1;
    const char *sig_b64 = strstr(sig_line, "PeterNeumann ") + strlen("PeterNeumann ");
    char msg[NOTE_BYTES_MAX * 2];

    expect_malformed(&v, "", 0, -KM_EINVAL, "empty");
    expect_malformed(&v, KAT_TEXT, strlen(KAT_TEXT), -KM_EINVAL, "text only");
    expect_malformed(&v, KAT_TEXT "\n", strlen(KAT_TEXT) + 1, -KM_EINVAL, "no signature line");
    /* the blank line missing */
    snprintf(msg, sizeof msg, "%s%s", KAT_TEXT, sig_line);
    expect_malformed(&v, msg, strlen(msg), -KM_EINVAL, "no blank line");
    /* the signature block without its final newline */
    expect_malformed(&v, good, good_len - 1, -KM_EINVAL, "no final newline");
    /* a blank line after the signatures makes them part of the text */
    snprintf(msg, sizeof msg, "%s\n", good);
    expect_malformed(&v, msg, strlen(msg), -KM_EINVAL, "blank line at the end");
    /* signature lines of the wrong shape: what comes before and after the base64 */
    static const struct {
        const char *before;
        const char *after;
    } bad_lines[] = {
        {"- PeterNeumann ", ""},                    /* a hyphen, not an em dash */
        {"\xe2\x80\x94PeterNeumann ", ""},          /* no space after the dash */
        {"\xe2\x80\x94 PeterNeumann", ""},          /* no space before the base64 */
        {"\xe2\x80\x94  ", ""},                     /* empty name */
        {"\xe2\x80\x94 Peter+Neumann ", ""},        /* '+' in the name */
        {"\xe2\x80\x94 PeterNeumann ", "="},        /* extra padding */
        {"\xe2\x80\x94 PeterNeumann  ", ""},        /* two spaces */
        {"\xe2\x80\x94 PeterNeumann ", " extra"},   /* trailing text */
        {"\xe2\x80\x94 Peter\xc2\xa0Neumann ", ""}, /* a no-break space in the name */
    };
    char b64[256];
    snprintf(b64, sizeof b64, "%s", sig_b64);
    b64[strlen(b64) - 1] = '\0'; /* drop the newline */
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        snprintf(msg, sizeof msg, "%s\n%s%s%s\n", KAT_TEXT, bad_lines[i].before, b64,
                 bad_lines[i].after);
        char what[64];
        snprintf(what, sizeof what, "bad signature line %zu", i);
        expect_malformed(&v, msg, strlen(msg), -KM_EINVAL, what);
    }
    /* base64 that is not canonical, or too short to hold a key ID and a signature */
    snprintf(msg, sizeof msg, "%s\n\xe2\x80\x94 PeterNeumann AB==\n", KAT_TEXT);
    expect_malformed(&v, msg, strlen(msg), -KM_EINVAL, "non-canonical base64");
    snprintf(msg, sizeof msg, "%s\n\xe2\x80\x94 PeterNeumann AAAAAA==\n", KAT_TEXT);
    expect_malformed(&v, msg, strlen(msg), -KM_EINVAL, "4-byte signature");
    snprintf(msg, sizeof msg, "%s\n\xe2\x80\x94 PeterNeumann x08go/ZJ#A==\n", KAT_TEXT);
    expect_malformed(&v, msg, strlen(msg), -KM_EINVAL, "not base64");
    /* valid UTF-8 above 0x7f inside the base64 (U+00C1 and U+0415) */
    snprintf(msg, sizeof msg, "%s\n\xe2\x80\x94 PeterNeumann x08go/ZJ\xc3\x81\xd0\x95\n", KAT_TEXT);
    expect_malformed(&v, msg, strlen(msg), -KM_EINVAL, "UTF-8 in the base64");
    /* a known key with a signature of the wrong length: key ID c74f20a3 and 5 bytes */
    snprintf(msg, sizeof msg, "%s\n\xe2\x80\x94 PeterNeumann x08go0FBQUFB\n", KAT_TEXT);
    expect_malformed(&v, msg, strlen(msg), -KM_ESIGNATURE, "short signature by a known key");
    /* control characters and invalid UTF-8 anywhere */
    static const char *const bad_bytes[] = {
        "\r", "\t", "\x01", "\x7f\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80"};
    for (size_t i = 0; i < sizeof bad_bytes / sizeof bad_bytes[0]; i++) {
        snprintf(msg, sizeof msg, "If you%s think\n\n%s", bad_bytes[i], sig_line);
        char what[64];
        snprintf(what, sizeof what, "bad bytes %zu in the text", i);
        expect_malformed(&v, msg, strlen(msg), -KM_EINVAL, what);
    }
    memcpy(msg, good, good_len);
    msg[good_len - 2] = '\0'; /* a NUL inside the signature line */
    expect_malformed(&v, msg, good_len, -KM_EINVAL, "NUL");
    note_signer_release(&s);
}

Test(note_open, oversized_notes_are_refused, .init = sodium_setup)
{
    struct note_signer s;
    struct note_verifier v;
    kat_keys(&s, &v);
    char good[NOTE_BYTES_MAX + 1];
    size_t good_len = sign_text(&s, KAT_TEXT, good);
    static char msg[NOTE_BYTES_MAX * 2];
    /* over the byte limit */
    memset(msg, 'a', sizeof msg);
    msg[0] = '\n';
    memcpy(msg + NOTE_BYTES_MAX + 1 - good_len, good, good_len);
    expect_malformed(&v, msg, NOTE_BYTES_MAX + 1, -KM_ETOOLARGE, "one byte over");
    /* exactly at the limit is fine */
    memcpy(msg + NOTE_BYTES_MAX - good_len, good, good_len);
    msg[NOTE_BYTES_MAX - good_len - 1] = '\n';
    struct note_opened o;
    struct km_error e = {0};
    cr_assert_eq(note_open(msg + 0, NOTE_BYTES_MAX, &v, 1, &o, &e), -KM_ESIGNATURE,
                 "the text changed, but the size is accepted: %s", e.reason);
    /* too many signature lines */
    size_t len = (size_t)snprintf(msg, sizeof msg, "%s", good);
    const char *line = good + strlen(KAT_TEXT) + 1;
    for (int i = 0; i < NOTE_SIGNATURES_MAX; i++) {
        len += (size_t)snprintf(msg + len, sizeof msg - len, "%s", line);
    }
    cr_assert_lt(len, NOTE_BYTES_MAX);
    expect_malformed(&v, msg, len, -KM_ETOOLARGE, "too many signatures");
    /* NOTE_SIGNATURES_MAX lines exactly are fine */
    len -= strlen(line);
    cr_assert_eq(note_open(msg, len, &v, 1, &o, &e), 0, "%s", e.message);
    cr_assert_eq(o.signature_count, NOTE_SIGNATURES_MAX);
    cr_assert_eq(o.verified_count, 1);
    note_signer_release(&s);
}

/* ---------- keys ---------- */

static int parse_vkey(const char *text, struct km_error *e)
{
    struct note_verifier v;
    return note_verifier_parse(text, strlen(text), &v, e);
}

static int parse_skey(const char *text, struct km_error *e)
{
    struct note_signer s;
    int rc = note_signer_parse(text, strlen(text), &s, e);
    note_signer_release(&s);
    return rc;
}

Test(note_keys, malformed_keys_are_refused, .init = sodium_setup)
{
    struct km_error e = {0};
    const char *good = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    cr_assert_eq(parse_vkey(good, &e), 0);
    cr_assert_eq(
        parse_vkey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &e), 0,
        "upper-case hex is hex");
    static const struct {
        const char *text;
        const char *reason;
    } bad[] = {
        {"", "key_malformed"},
        {"PeterNeumann", "key_malformed"},
        {"PeterNeumann+c74f20a3", "key_malformed"},
        {"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key_id_mismatch"},
        {"PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key_id_mismatch"},
        {"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key_malformed"},
        {"PeterNeumann+c74f20g3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key_malformed"},
        {"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key_name_invalid"},
        {"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key_name_invalid"},
        {"PeterNeumann+c74f20a3+AhpcAAcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         "key_type_unsupported"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q=", "key_malformed"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX", "key_id_mismatch"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==", "key_malformed"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n\n", "key_malformed"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ", "key_malformed"},
        {"PeterNeumann+c74f20a3+", "key_malformed"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1\xca\x8a\x8d\x95",
         "key_malformed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(parse_vkey(bad[i].text, &e), -KM_EINVAL, "vkey %zu", i);
        cr_expect_str_eq(e.reason, bad[i].reason, "vkey %zu: %s", i, e.message);
    }

    cr_assert_eq(parse_skey("PRIVATE+KEY+PeterNeumann+c74f20a3+"
                            "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
                            &e),
                 0);
    cr_assert_eq(
        parse_skey("PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &e),
        -KM_EINVAL, "a verifier-shaped secret");
    cr_assert_eq(parse_skey("PRIVATE+KEY+PeterNeumann+c74f20a4+"
                            "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
                            &e),
                 -KM_EINVAL);
    cr_assert_str_eq(e.reason, "key_id_mismatch");
    cr_assert_eq(parse_skey("PRIVATE+KEY+PeterNeumann+c74f20a3+"
                            "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF=",
                            &e),
                 -KM_EINVAL);
    /* a failed parse leaves nothing of the secret behind */
    struct note_signer s;
    const char *wrong_id = "PRIVATE+KEY+PeterNeumann+00000000+"
                           "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    cr_assert_eq(note_signer_parse(wrong_id, strlen(wrong_id), &s, &e), -KM_EINVAL);
    static const unsigned char zero[sizeof s.secret_key];
    cr_assert_eq(memcmp(s.secret_key, zero, sizeof zero), 0);
}

Test(note_keys, generated_keys_round_trip, .init = sodium_setup)
{
    struct note_signer s;
    struct km_error e = {0};
    cr_assert_eq(note_signer_generate("shop.example/log", &s, &e), 0);
    cr_assert_eq(s.key_id, note_key_id("shop.example/log", s.public_key));
    char text[NOTE_KEY_TEXT_BYTES_MAX];
    cr_assert_eq(note_signer_format(&s, text, sizeof text, &e), 0);
    cr_assert_eq(strncmp(text, "PRIVATE+KEY+shop.example/log+", 29), 0);
    struct note_signer back;
    cr_assert_eq(note_signer_parse(text, strlen(text), &back, &e), 0, "%s", e.message);
    cr_assert_eq(memcmp(&back, &s, sizeof s), 0);
    struct note_verifier v;
    struct note_verifier v_back;
    note_signer_verifier(&s, &v);
    cr_assert_eq(note_verifier_format(&v, text, sizeof text, &e), 0);
    cr_assert_eq(note_verifier_parse(text, strlen(text), &v_back, &e), 0);
    cr_assert_eq(memcmp(&v, &v_back, sizeof v), 0);
    cr_assert_eq(note_verifier_format(&v, text, 20, &e), -KM_EINVAL, "buffer too small");

    char msg[NOTE_BYTES_MAX + 1];
    sign_text(&s, "entry\n", msg);
    struct note_opened o;
    cr_assert_eq(open_with(msg, &v, 1, &o, &e), 0);

    static const char *const bad_names[] = {
        "", "a b", "a+b", "a\nb", "tab\there", "nbsp\xc2\xa0", "ideographic\xe3\x80\x80", "\xff"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        cr_expect_eq(note_signer_generate(bad_names[i], &back, &e), -KM_EINVAL, "name %zu", i);
        cr_expect(!note_name_valid(bad_names[i], strlen(bad_names[i])), "name %zu", i);
    }
    char long_name[NOTE_NAME_BYTES_MAX + 2];
    memset(long_name, 'n', sizeof long_name);
    long_name[NOTE_NAME_BYTES_MAX + 1] = '\0';
    cr_assert_eq(note_signer_generate(long_name, &back, &e), -KM_EINVAL);
    long_name[NOTE_NAME_BYTES_MAX] = '\0';
    cr_assert_eq(note_signer_generate(long_name, &back, &e), 0, "the longest name is fine");
    cr_assert_eq(note_signer_format(&back, text, sizeof text, &e), 0);
    note_signer_release(&back);
    note_signer_release(&s);
    note_signer_release(NULL);
}

/* ---------- checkpoints ---------- */

static int parse_checkpoint(const char *text, struct note_checkpoint *c, struct km_error *e)
{
    return note_checkpoint_parse(text, strlen(text), c, e);
}

Test(note_checkpoint, format_and_parse_round_trip, .init = sodium_setup)
{
    unsigned char root[MERKLE_HASH_BYTES];
    for (int i = 0; i < MERKLE_HASH_BYTES; i++) {
        root[i] = (unsigned char)(i * 7 + 1);
    }
    const uint64_t sizes[] = {0, 1, 20852163, MERKLE_TREE_SIZE_MAX};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        char text[256];
        size_t len = 0;
        struct km_error e = {0};
        cr_assert_eq(
            note_checkpoint_format("shop.example/log", sizes[k], root, text, sizeof text, &len, &e),
            0);
        cr_assert_eq(len, strlen(text));
        struct note_checkpoint c;
        cr_assert_eq(note_checkpoint_parse(text, len, &c, &e), 0, "%s: %s", text, e.message);
        cr_assert_str_eq(c.origin, "shop.example/log");
        cr_assert_eq(c.size, sizes[k]);
        cr_assert_eq(memcmp(c.root, root, sizeof root), 0);
    }
    char text[256];
    size_t len = 0;
    struct km_error e = {0};
    cr_assert_eq(note_checkpoint_format("o", 12, root, text, sizeof text, &len, &e), 0);
    cr_assert_str_eq(text, "o\n12\nAQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09o=\n");

    /* the example of c2sp.org/tlog-checkpoint */
    struct note_checkpoint c;
    cr_assert_eq(parse_checkpoint("example.com/behind-the-sofa\n20852163\n"
                                  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
                                  &c, &e),
                 0);
    cr_assert_str_eq(c.origin, "example.com/behind-the-sofa");
    cr_assert_eq(c.size, 20852163);

    /* formatting refuses what parsing would refuse */
    cr_assert_eq(note_checkpoint_format("", 1, root, text, sizeof text, &len, &e), -KM_EINVAL);
    cr_assert_eq(note_checkpoint_format("a b", 1, root, text, sizeof text, &len, &e), -KM_EINVAL);
    cr_assert_eq(
        note_checkpoint_format("o", MERKLE_TREE_SIZE_MAX + 1, root, text, sizeof text, &len, &e),
        -KM_EINVAL);
    cr_assert_eq(note_checkpoint_format("o", 1, root, text, 20, &len, &e), -KM_EINVAL);
}

Test(note_checkpoint, parsing_is_strict, .init = sodium_setup)
{
#define ROOT_B64 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    static const struct {
        const char *text;
        const char *param;
    } bad[] = {
        {"", "origin"},
        {"\n5\n" ROOT_B64 "\n", "origin"},
        {"a b\n5\n" ROOT_B64 "\n", "origin"},
        {"a+b\n5\n" ROOT_B64 "\n", "origin"},
        {"a\r\n5\n" ROOT_B64 "\n", "origin"},
        {"log\n\n" ROOT_B64 "\n", "size"},
        {"log\n05\n" ROOT_B64 "\n", "size"},
        {"log\n00\n" ROOT_B64 "\n", "size"},
        {"log\n+5\n" ROOT_B64 "\n", "size"},
        {"log\n-5\n" ROOT_B64 "\n", "size"},
        {"log\n 5\n" ROOT_B64 "\n", "size"},
        {"log\n5 \n" ROOT_B64 "\n", "size"},
        {"log\n0x5\n" ROOT_B64 "\n", "size"},
        {"log\n9223372036854775809\n" ROOT_B64 "\n", "size"},  /* 2^63 + 1 */
        {"log\n18446744073709551616\n" ROOT_B64 "\n", "size"}, /* 2^64 */
        {"log\n123456789012345678901\n" ROOT_B64 "\n", "size"},
        {"log\n5", "size"},
        {"log\n5\n", "root"},
        {"log\n5\n" ROOT_B64, "root"},
        {"log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", "root"},   /* no padding */
        {"log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", "root"},  /* not canonical */
        {"log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n", "root"},  /* 31 bytes */
        {"log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n", "root"},  /* 33 bytes */
        {"log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx q2I=\n", "root"}, /* a space */
        {"log\n5\n" ROOT_B64 "\r\n", "root"},
        /* bytes above 0x7f that libsodium 1.0.18 would decode as base64 digits */
        {"log\n5\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq\xca\x8a\x8d\x95"
         "6s=\n",
         "root"},
        {"log\n5\n" ROOT_B64 "\nextension\n", "checkpoint"},
        {"log\n5\n" ROOT_B64 "\n\n", "checkpoint"},
    };
#undef ROOT_B64
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct note_checkpoint c;
        struct km_error e = {0};
        cr_expect_eq(parse_checkpoint(bad[i].text, &c, &e), -KM_EINVAL, "checkpoint %zu", i);
        cr_expect_str_eq(e.param, bad[i].param, "checkpoint %zu: %s", i, e.message);
        cr_expect_eq(c.size, 0, "nothing is reported on failure");
    }
    struct note_checkpoint c;
    struct km_error e = {0};
    cr_assert_eq(parse_checkpoint("log\n9223372036854775808\n"
                                  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
                                  &c, &e),
                 0, "2^63 is the largest size");
    static char big[NOTE_BYTES_MAX + 2];
    memset(big, 'a', sizeof big);
    cr_assert_eq(note_checkpoint_parse(big, sizeof big, &c, &e), -KM_ETOOLARGE);
}

Test(note_checkpoint, a_signed_checkpoint_opens_and_parses, .init = sodium_setup)
{
    struct note_signer s;
    struct km_error e = {0};
    cr_assert_eq(note_signer_generate("shop.example/log", &s, &e), 0);
    struct note_verifier v;
    note_signer_verifier(&s, &v);
    unsigned char root[MERKLE_HASH_BYTES];
    merkle_empty_root(root);
    char body[256];
    size_t body_len = 0;
    cr_assert_eq(note_checkpoint_format(s.name, 0, root, body, sizeof body, &body_len, &e), 0);
    char msg[NOTE_BYTES_MAX + 1];
    size_t msg_len = 0;
    cr_assert_eq(note_sign(&s, body, body_len, msg, sizeof msg, &msg_len, &e), 0);
    struct note_opened o;
    cr_assert_eq(note_open(msg, msg_len, &v, 1, &o, &e), 0);
    cr_assert_eq(o.text_len, body_len);
    struct note_checkpoint c;
    cr_assert_eq(note_checkpoint_parse(msg, o.text_len, &c, &e), 0);
    cr_assert_str_eq(c.origin, "shop.example/log");
    cr_assert_eq(c.size, 0);
    cr_assert_eq(memcmp(c.root, root, sizeof root), 0);
    note_signer_release(&s);
}
