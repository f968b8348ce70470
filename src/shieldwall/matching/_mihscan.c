/*
 * Exact PDQ search kernels for shieldwall.matching.pdq_index.
 *
 * mih_search: multi-index hashing. The 256-bit hash is cut into m parts; by the
 * generalised pigeonhole principle, if sum(radius_i + 1) > threshold then any stored hash
 * within `threshold` bits of the query is within radius_i bits of it on at least one part
 * i. Each part has a bucket directory (CSR: offsets by part value, then row numbers), so
 * the kernel enumerates every part value within the part's radius, verifies each row in
 * those buckets with a full 256-bit Hamming distance, and reports a row only from the
 * first part that finds it (so no "seen" set is needed). The result is exact: every row
 * within the threshold, and nothing else.
 *
 * brute_search: a linear scan, used for the small buffer of recent additions.
 *
 * Both release the GIL while scanning; buffers are read-only except `alive`, which the
 * Python side only ever flips from 1 to 0 (a concurrent removal is either seen or not).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BYTES 32
#define HASH_WORDS 4
#define MAX_PARTS 64

typedef struct {
    uint32_t row;
    uint32_t distance;
} hit_t;

typedef struct {
    hit_t *items;
    size_t len;
    size_t cap;
    int failed;
} hits_t;

typedef struct {
    int32_t start;      /* first bit of the part */
    int32_t width;      /* bits in the part (<= 32) */
    int32_t radius;     /* search radius on this part; -1: part not probed */
    int64_t dir_offset; /* where this part's directory starts in `dirs` */
    int64_t row_offset; /* where this part's rows start in `rows`, in rows */
} part_t;

typedef struct {
    const uint8_t *hashes;
    const uint8_t *alive;
    const uint8_t *rows; /* 3-byte little-endian row numbers */
    const uint32_t *dirs;
    part_t parts[MAX_PARTS];
    int nparts;
    uint64_t query[HASH_WORDS];
    uint32_t qchunk[MAX_PARTS];
    int threshold;
    hits_t hits;
} search_t;

static inline void load_words(const uint8_t *src, uint64_t out[HASH_WORDS]) {
    memcpy(out, src, HASH_BYTES);
}

static inline int hamming(const uint64_t *a, const uint64_t *b) {
    return __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]) +
           __builtin_popcountll(a[2] ^ b[2]) + __builtin_popcountll(a[3] ^ b[3]);
}

/* Bits [start, start+width) of a hash held as four little-endian 64-bit words. */
static inline uint32_t chunk_of(const uint64_t *words, int start, int width) {
    int wi = start >> 6;
    int off = start & 63;
    uint64_t v = words[wi] >> off;
    if (off + width > 64) {
        v |= words[wi + 1] << (64 - off);
    }
    return (uint32_t)(v & ((width == 64) ? ~0ULL : ((1ULL << width) - 1)));
}

static void push_hit(hits_t *hits, uint32_t row, uint32_t distance) {
    if (hits->failed) {
        return;
    }
    if (hits->len == hits->cap) {
        size_t cap = hits->cap ? hits->cap * 2 : 64;
        hit_t *items = realloc(hits->items, cap * sizeof(hit_t));
        if (items == NULL) {
            hits->failed = 1;
            return;
        }
        hits->items = items;
        hits->cap = cap;
    }
    hits->items[hits->len].row = row;
    hits->items[hits->len].distance = distance;
    hits->len++;
}

static inline uint32_t row_at(const uint8_t *rows, int64_t index) {
    const uint8_t *p = rows + index * 3;
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}

typedef struct {
    uint32_t *items;
    size_t len;
    size_t cap;
} u32s_t;

static int push_u32(u32s_t *v, uint32_t x) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1024;
        uint32_t *items = realloc(v->items, cap * sizeof(uint32_t));
        if (items == NULL) {
            return -1;
        }
        v->items = items;
        v->cap = cap;
    }
    v->items[v->len++] = x;
    return 0;
}

/* Every part value within `left` more flipped bits of `key`, flipping bits >= `bit`. */
static int enumerate_probes(u32s_t *out, uint32_t key, int bit, int width, int left) {
    if (push_u32(out, key) != 0) {
        return -1;
    }
    if (left == 0) {
        return 0;
    }
    for (int b = bit; b < width; b++) {
        if (enumerate_probes(out, key ^ (1U << b), b + 1, width, left - 1) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Verify one candidate row found through part p; report it from the first part only. */
static void verify(search_t *s, int p, uint32_t row) {
    uint64_t words[HASH_WORDS];
    load_words(s->hashes + (size_t)row * HASH_BYTES, words);
    int d = hamming(words, s->query);
    if (d > s->threshold || !s->alive[row]) {
        return;
    }
    for (int q = 0; q < p; q++) {
        const part_t *other = &s->parts[q];
        if (other->radius >= 0) {
            uint32_t c = chunk_of(words, other->start, other->width);
            if (__builtin_popcount(c ^ s->qchunk[q]) <= other->radius) {
                return;
            }
        }
    }
    push_hit(&s->hits, row, (uint32_t)d);
}

#define LOOKAHEAD 16
#define VERIFY_AHEAD 16

/*
 * Each step (directory -> bucket rows -> hash) depends on the one before, so done one
 * probe at a time the search waits on three cache misses per probe. Instead, list every
 * probe of every part first, then walk each list with prefetches ahead, so that many
 * misses are in flight at once. `marks` holds where each part's probes start.
 */
static int search_all(search_t *s, u32s_t *probes, u32s_t *cands) {
    size_t marks[MAX_PARTS + 1];
    for (int p = 0; p < s->nparts; p++) {
        marks[p] = probes->len;
        if (s->parts[p].radius >= 0 &&
            enumerate_probes(probes, s->qchunk[p], 0, s->parts[p].width, s->parts[p].radius)) {
            return -1;
        }
    }
    marks[s->nparts] = probes->len;
    /* Directory ranges -> positions in each part's row table (part in the top byte). */
    size_t cand_marks[MAX_PARTS + 1];
    for (int p = 0; p < s->nparts; p++) {
        const uint32_t *dir = s->dirs + s->parts[p].dir_offset;
        const uint8_t *part_rows = s->rows + s->parts[p].row_offset * 3;
        cand_marks[p] = cands->len;
        for (size_t i = marks[p]; i < marks[p + 1]; i++) {
            if (i + LOOKAHEAD < marks[p + 1]) {
                __builtin_prefetch(dir + probes->items[i + LOOKAHEAD]);
            }
            uint32_t lo = dir[probes->items[i]];
            uint32_t hi = dir[probes->items[i] + 1];
            for (uint32_t j = lo; j < hi; j++) {
                __builtin_prefetch(part_rows + (size_t)j * 3);
                if (push_u32(cands, j) != 0) {
                    return -1;
                }
            }
        }
    }
    cand_marks[s->nparts] = cands->len;
    /*
     * Positions -> row numbers -> verification as one pipeline: the candidate
     * VERIFY_AHEAD places ahead gets its row number read and its hash prefetched while
     * this one is verified. (Prefetching every hash first, then verifying, issued
     * thousands of prefetches at once and most missed again: 280 -> 210 us a query at
     * 10M hashes, bench/index.py.)
     */
    for (int p = 0; p < s->nparts; p++) {
        const uint8_t *part_rows = s->rows + s->parts[p].row_offset * 3;
        size_t lo = cand_marks[p], hi = cand_marks[p + 1];
        for (size_t i = lo; i < hi && i < lo + VERIFY_AHEAD; i++) {
            cands->items[i] = row_at(part_rows, cands->items[i]);
            __builtin_prefetch(s->hashes + (size_t)cands->items[i] * HASH_BYTES);
        }
        for (size_t i = lo; i < hi; i++) {
            if (i + VERIFY_AHEAD < hi) {
                uint32_t ahead = row_at(part_rows, cands->items[i + VERIFY_AHEAD]);
                cands->items[i + VERIFY_AHEAD] = ahead;
                __builtin_prefetch(s->hashes + (size_t)ahead * HASH_BYTES);
            }
            verify(s, p, cands->items[i]);
        }
    }
    return 0;
}

static int get_buffer(PyObject *obj, Py_buffer *view, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) != 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous buffer", what);
        return -1;
    }
    return 0;
}

static PyObject *hits_to_list(hits_t *hits) {
    if (hits->failed) {
        free(hits->items);
        return PyErr_NoMemory();
    }
    PyObject *out = PyList_New((Py_ssize_t)hits->len);
    if (out == NULL) {
        free(hits->items);
        return NULL;
    }
    for (size_t i = 0; i < hits->len; i++) {
        PyObject *pair = Py_BuildValue("(II)", hits->items[i].row, hits->items[i].distance);
        if (pair == NULL) {
            Py_DECREF(out);
            free(hits->items);
            return NULL;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, pair);
    }
    free(hits->items);
    return out;
}

static int read_parts(search_t *s, Py_buffer *parts, Py_ssize_t n, Py_ssize_t dirs_len,
                      Py_ssize_t rows_len) {
    /* parts: int64 array of shape (m, 5): start, width, radius, dir_offset, row_offset */
    Py_ssize_t count = parts->len / (Py_ssize_t)(5 * sizeof(int64_t));
    if (count < 1 || count > MAX_PARTS || parts->len % (5 * sizeof(int64_t)) != 0) {
        PyErr_SetString(PyExc_ValueError, "parts must be an int64 array of shape (m, 5)");
        return -1;
    }
    const int64_t *v = (const int64_t *)parts->buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        part_t *p = &s->parts[i];
        p->start = (int32_t)v[i * 5];
        p->width = (int32_t)v[i * 5 + 1];
        p->radius = (int32_t)v[i * 5 + 2];
        p->dir_offset = v[i * 5 + 3];
        p->row_offset = v[i * 5 + 4];
        int64_t dir_end = p->dir_offset + ((int64_t)1 << p->width) + 1;
        if (p->width < 1 || p->width > 24 || p->start < 0 || p->start + p->width > 256 ||
            p->radius < -1 || p->radius > p->width || p->dir_offset < 0 ||
            dir_end > dirs_len / (Py_ssize_t)sizeof(uint32_t) || p->row_offset < 0 ||
            (p->row_offset + n) * 3 > rows_len) {
            PyErr_SetString(PyExc_ValueError, "a part lies outside its buffers");
            return -1;
        }
    }
    s->nparts = (int)count;
    return 0;
}

static PyObject *mih_search(PyObject *self, PyObject *args) {
    PyObject *query_obj, *hashes_obj, *alive_obj, *rows_obj, *dirs_obj, *parts_obj;
    int threshold;
    if (!PyArg_ParseTuple(args, "OOOOOOi", &query_obj, &hashes_obj, &alive_obj, &rows_obj,
                          &dirs_obj, &parts_obj, &threshold)) {
        return NULL;
    }
    Py_buffer query, hashes, alive, rows, dirs, parts;
    PyObject *result = NULL;
    int got = 0;
    if (get_buffer(query_obj, &query, "query") == 0) got++; else goto done;
    if (get_buffer(hashes_obj, &hashes, "hashes") == 0) got++; else goto done;
    if (get_buffer(alive_obj, &alive, "alive") == 0) got++; else goto done;
    if (get_buffer(rows_obj, &rows, "rows") == 0) got++; else goto done;
    if (get_buffer(dirs_obj, &dirs, "dirs") == 0) got++; else goto done;
    if (get_buffer(parts_obj, &parts, "parts") == 0) got++; else goto done;
    if (query.len != HASH_BYTES || hashes.len % HASH_BYTES != 0 ||
        alive.len != hashes.len / HASH_BYTES) {
        PyErr_SetString(PyExc_ValueError, "query must be 32 bytes; hashes n*32; alive n");
        goto done;
    }
    search_t s;
    memset(&s, 0, sizeof(s));
    Py_ssize_t n = alive.len;
    if (read_parts(&s, &parts, n, dirs.len, rows.len) != 0) {
        goto done;
    }
    s.hashes = hashes.buf;
    s.alive = alive.buf;
    s.rows = rows.buf;
    s.dirs = dirs.buf;
    s.threshold = threshold;
    load_words(query.buf, s.query);
    for (int p = 0; p < s.nparts; p++) {
        s.qchunk[p] = chunk_of(s.query, s.parts[p].start, s.parts[p].width);
    }
    u32s_t probes = {NULL, 0, 0};
    u32s_t rows_found = {NULL, 0, 0};
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    failed = search_all(&s, &probes, &rows_found) != 0;
    Py_END_ALLOW_THREADS
    free(probes.items);
    free(rows_found.items);
    if (failed) {
        free(s.hits.items);
        PyErr_NoMemory();
        goto done;
    }
    result = hits_to_list(&s.hits);
done:
    if (got > 5) PyBuffer_Release(&parts);
    if (got > 4) PyBuffer_Release(&dirs);
    if (got > 3) PyBuffer_Release(&rows);
    if (got > 2) PyBuffer_Release(&alive);
    if (got > 1) PyBuffer_Release(&hashes);
    if (got > 0) PyBuffer_Release(&query);
    return result;
}

static PyObject *brute_search(PyObject *self, PyObject *args) {
    PyObject *query_obj, *hashes_obj, *alive_obj;
    Py_ssize_t count;
    int threshold;
    if (!PyArg_ParseTuple(args, "OOOni", &query_obj, &hashes_obj, &alive_obj, &count,
                          &threshold)) {
        return NULL;
    }
    Py_buffer query, hashes, alive;
    PyObject *result = NULL;
    int got = 0;
    if (get_buffer(query_obj, &query, "query") == 0) got++; else goto done;
    if (get_buffer(hashes_obj, &hashes, "hashes") == 0) got++; else goto done;
    if (get_buffer(alive_obj, &alive, "alive") == 0) got++; else goto done;
    if (query.len != HASH_BYTES || count < 0 || count * HASH_BYTES > hashes.len ||
        count > alive.len) {
        PyErr_SetString(PyExc_ValueError, "query must be 32 bytes; count within buffers");
        goto done;
    }
    hits_t hits = {NULL, 0, 0, 0};
    uint64_t q[HASH_WORDS];
    load_words(query.buf, q);
    const uint8_t *base = hashes.buf;
    const uint8_t *live = alive.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        uint64_t words[HASH_WORDS];
        load_words(base + i * HASH_BYTES, words);
        int d = hamming(words, q);
        if (d <= threshold && live[i]) {
            push_hit(&hits, (uint32_t)i, (uint32_t)d);
        }
    }
    Py_END_ALLOW_THREADS
    result = hits_to_list(&hits);
done:
    if (got > 2) PyBuffer_Release(&alive);
    if (got > 1) PyBuffer_Release(&hashes);
    if (got > 0) PyBuffer_Release(&query);
    return result;
}

static PyMethodDef methods[] = {
    {"mih_search", mih_search, METH_VARARGS,
     "Exact multi-index search: list of (row, distance) within the threshold."},
    {"brute_search", brute_search, METH_VARARGS,
     "Linear scan of the first `count` hashes: list of (row, distance)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_mihscan", "Exact PDQ search kernels.", -1, methods,
};

PyMODINIT_FUNC PyInit__mihscan(void) { return PyModule_Create(&module); }
