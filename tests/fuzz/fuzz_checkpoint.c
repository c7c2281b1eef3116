/* libFuzzer target for the checkpoint body parser in domain/note: whatever parses must format
 * back to exactly the same bytes (the format is canonical), and whatever is formatted must
 * parse. Build and run with tests/fuzz/run.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct note_checkpoint c;
    struct km_error e;
    if (note_checkpoint_parse(text, size, &c, &e) != 0) {
        return 0;
    }
    char back[NOTE_NAME_BYTES_MAX + 128];
    size_t back_len = 0;
    if (note_checkpoint_format(c.origin, c.size, c.root, back, sizeof back, &back_len, &e) != 0) {
        abort();
    }
    if (back_len != size || memcmp(back, text, size) != 0) {
        abort();
    }
    struct note_checkpoint again;
    if (note_checkpoint_parse(back, back_len, &again, &e) != 0 ||
        memcmp(&again, &c, sizeof c) != 0) {
        abort();
    }
    return 0;
}
