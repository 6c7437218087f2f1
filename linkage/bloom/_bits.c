/*
 * Set the Bloom-filter bits of many records in place (plaintext zone, no secret: it only
 * sees bit positions that the keyed hash already produced).
 *
 * Why: the numpy path builds, per field, a dense bool table of every distinct cell's filter,
 * packs it, then ORs gathered table rows into the records: about 20% of encoding time
 * (benchmarks/encode.py). Here each record's bits are set directly from its cells' tokens,
 * with each token word reduced modulo the filter length once per call.
 *
 *   or_cells(out, rows, cells, starts, tokens, words, bits) -> None
 *
 * out     writable, C-contiguous uint64 (n_rows, w): the filters, bit p in word p / 64 at
 *         bit p % 64 (the layout of linkage.format)
 * rows    int64 (m,): record row of each (row, cell) pair
 * cells   int64 (m,): cell of each pair
 * starts  int64 (n_cells + 1,): cell c has tokens[starts[c]:starts[c + 1]]
 * tokens  int64: token ids
 * words   uint32 (n_tokens, k), C-contiguous: the k hash words of each token
 * bits    filter length (<= 64 w); each word sets bit words[t, j] % bits
 *
 * Every index is bounds-checked before any bit is set, so bad input raises ValueError and
 * leaves ``out`` untouched.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

typedef struct {
    Py_buffer view;
    int held;
} buffer;

static int get(PyObject *obj, buffer *b, const char *fmt, Py_ssize_t itemsize, int writable,
               const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0)
        return 0;
    b->held = 1;
    const char *f = b->view.format;
    if (f[0] == '<' || f[0] == '=' || f[0] == '@')
        f++;
    /* int64 is 'l' on LP64 and 'q' elsewhere; uint64 'L' or 'Q'; uint32 'I' */
    if (b->view.itemsize != itemsize || strchr(fmt, f[0]) == NULL || f[1] != '\0') {
        PyErr_Format(PyExc_TypeError, "%s: wrong dtype", name);
        return 0;
    }
    return 1;
}

static void release(buffer *bufs, int n)
{
    for (int i = 0; i < n; i++)
        if (bufs[i].held)
            PyBuffer_Release(&bufs[i].view);
}

static int in_range(const int64_t *v, Py_ssize_t n, int64_t limit, const char *name)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] >= limit) {
            PyErr_Format(PyExc_ValueError, "%s: index out of range", name);
            return 0;
        }
    }
    return 1;
}

static int starts_valid(const int64_t *starts, Py_ssize_t n_cells, Py_ssize_t n_tokens)
{
    if (starts[0] < 0 || starts[n_cells] > n_tokens)
        goto bad;
    for (Py_ssize_t c = 0; c < n_cells; c++)
        if (starts[c + 1] < starts[c])
            goto bad;
    return 1;
bad:
    PyErr_SetString(PyExc_ValueError, "starts: not non-decreasing offsets into tokens");
    return 0;
}

/* positions[t * k + h] = words[t * k + h] % bits: one division per token word, not one per
 * use (a token is used by many records, and a 32-bit division costs more than the OR) */
static void reduce_words(const uint32_t *words, Py_ssize_t n, uint32_t bits, uint32_t *positions)
{
    for (Py_ssize_t i = 0; i < n; i++)
        positions[i] = words[i] % bits;
}

static void set_bits(uint64_t *out, Py_ssize_t w, const int64_t *rows, const int64_t *cells,
                     Py_ssize_t m, const int64_t *starts, const int64_t *tokens,
                     const uint32_t *positions, Py_ssize_t k)
{
    for (Py_ssize_t i = 0; i < m; i++) {
        uint64_t *row = out + rows[i] * w;
        for (int64_t j = starts[cells[i]]; j < starts[cells[i] + 1]; j++) {
            const uint32_t *tp = positions + tokens[j] * k;
            for (Py_ssize_t h = 0; h < k; h++)
                row[tp[h] >> 6] |= (uint64_t)1 << (tp[h] & 63);
        }
    }
}

static PyObject *or_cells(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *o[6];
    unsigned long bits;
    if (!PyArg_ParseTuple(args, "OOOOOOk", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &bits))
        return NULL;
    buffer b[6] = {0};
    PyObject *result = NULL;
    if (!get(o[0], &b[0], "LQ", 8, 1, "out") || !get(o[1], &b[1], "lq", 8, 0, "rows")
        || !get(o[2], &b[2], "lq", 8, 0, "cells") || !get(o[3], &b[3], "lq", 8, 0, "starts")
        || !get(o[4], &b[4], "lq", 8, 0, "tokens") || !get(o[5], &b[5], "I", 4, 0, "words"))
        goto done;
    if (b[0].view.ndim != 2 || b[5].view.ndim != 2) {
        PyErr_SetString(PyExc_ValueError, "out and words must be 2-d");
        goto done;
    }
    const Py_ssize_t n_rows = b[0].view.shape[0], w = b[0].view.shape[1];
    const Py_ssize_t m = b[1].view.len / 8, n_cells = b[3].view.len / 8 - 1;
    const Py_ssize_t n_tokens = b[5].view.shape[0], k = b[5].view.shape[1];
    if (b[2].view.len / 8 != m || n_cells < 0 || bits == 0 || bits > (unsigned long)(64 * w)) {
        PyErr_SetString(PyExc_ValueError, "inconsistent lengths or filter length");
        goto done;
    }
    const int64_t *starts = b[3].view.buf;
    if (!in_range(b[1].view.buf, m, n_rows, "rows") || !in_range(b[2].view.buf, m, n_cells, "cells")
        || !starts_valid(starts, n_cells, b[4].view.len / 8)
        || !in_range(b[4].view.buf, b[4].view.len / 8, n_tokens, "tokens"))
        goto done;
    const size_t n_words = (size_t)(n_tokens * k > 0 ? n_tokens * k : 1);
    uint32_t *positions = PyMem_Malloc(n_words * sizeof(uint32_t));
    if (positions == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    reduce_words(b[5].view.buf, n_tokens * k, (uint32_t)bits, positions);
    set_bits(b[0].view.buf, w, b[1].view.buf, b[2].view.buf, m, starts, b[4].view.buf,
             positions, k);
    Py_END_ALLOW_THREADS
    PyMem_Free(positions);
    result = Py_None;
    Py_INCREF(result);
done:
    release(b, 6);
    return result;
}

static PyMethodDef methods[] = {
    {"or_cells", or_cells, METH_VARARGS, "Set each record's bits from its cells' token words."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bits", NULL, -1, methods};

PyMODINIT_FUNC PyInit__bits(void) { return PyModule_Create(&module); }
