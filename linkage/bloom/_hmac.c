/*
 * Batch HMAC-SHA256 through OpenSSL (plaintext zone, hazardous layer).
 *
 * Why: the encoder hashes ~10 short messages per record (tokens, blocking-key values,
 * references). Python's hmac.digest() costs ~3 us a call with OpenSSL 3 because every call
 * fetches the digest and derives the key pads again; here the key pads are derived once per
 * batch and each message costs one reset plus two SHA-256 compressions (~0.3 us with SHA-NI).
 *
 * The primitive is OpenSSL's HMAC (EVP_MAC "HMAC", digest SHA256): nothing home-made. The
 * key is only held by OpenSSL's context, which EVP_MAC_CTX_free cleanses; nothing is cached
 * between calls.
 *
 *   many(key, data, ends, counter_blocks) -> bytes
 *
 * ``data`` holds the messages back to back and ``ends`` (native int64) their end offsets.
 * With counter_blocks == 0 the output is HMAC(key, message) for each message (32 bytes each);
 * with counter_blocks = b >= 1 it is HMAC(key, bytes([j]) + message) for j < b, i.e. 32*b
 * bytes per message (the random-hashing PRF stream of linkage.bloom.hashing).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#define DIGEST 32

static EVP_MAC_CTX *keyed_context(EVP_MAC *mac, const unsigned char *key, size_t key_len)
{
    char digest[] = "SHA256";
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    if (ctx != NULL && !EVP_MAC_init(ctx, key, key_len, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* One HMAC of (optional one-byte counter) + message; 1 on success. */
static int mac_one(EVP_MAC_CTX *ctx, int first, int with_counter, unsigned char counter,
                   const unsigned char *msg, size_t len, unsigned char *out)
{
    size_t written = 0;
    /* the first message uses the freshly keyed context; later ones reset it (NULL key
     * re-uses the derived key pads) */
    if (!first && !EVP_MAC_init(ctx, NULL, 0, NULL))
        return 0;
    if (with_counter && !EVP_MAC_update(ctx, &counter, 1))
        return 0;
    if (len > 0 && !EVP_MAC_update(ctx, msg, len))
        return 0;
    return EVP_MAC_final(ctx, out, &written, DIGEST) && written == DIGEST;
}

static int mac_all(EVP_MAC_CTX *ctx, const unsigned char *data, const int64_t *ends,
                   Py_ssize_t n, int blocks, unsigned char *out)
{
    const int with_counter = blocks > 0;
    const int per = with_counter ? blocks : 1;
    int64_t start = 0;
    int first = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        const size_t len = (size_t)(ends[i] - start);
        for (int j = 0; j < per; j++) {
            if (!mac_one(ctx, first, with_counter, (unsigned char)j, data + start, len, out))
                return 0;
            first = 0;
            out += DIGEST;
        }
        start = ends[i];
    }
    return 1;
}

static int check_ends(const int64_t *ends, Py_ssize_t n, Py_ssize_t data_len)
{
    int64_t prev = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (ends[i] < prev || ends[i] > data_len)
            return 0;
        prev = ends[i];
    }
    return n == 0 || ends[n - 1] == data_len;
}

static PyObject *many(PyObject *self, PyObject *args)
{
    Py_buffer key, data, ends;
    int blocks;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*i", &key, &data, &ends, &blocks))
        return NULL;
    const Py_ssize_t n = ends.len / (Py_ssize_t)sizeof(int64_t);
    if (blocks < 0 || blocks > 256 || ends.len % (Py_ssize_t)sizeof(int64_t) != 0 ||
        !check_ends((const int64_t *)ends.buf, n, data.len)) {
        PyErr_SetString(PyExc_ValueError, "bad message offsets or block count");
        goto done;
    }
    const Py_ssize_t out_len = n * DIGEST * (blocks > 0 ? blocks : 1);
    result = PyBytes_FromStringAndSize(NULL, out_len);
    if (result == NULL || n == 0)
        goto done;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? keyed_context(mac, key.buf, (size_t)key.len) : NULL;
    int ok = 0;
    if (ctx != NULL) {
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
        Py_BEGIN_ALLOW_THREADS
        ok = mac_all(ctx, data.buf, (const int64_t *)ends.buf, n, blocks, out);
        Py_END_ALLOW_THREADS
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    if (!ok) {
        Py_CLEAR(result);
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL HMAC-SHA256 failed");
    }
done:
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    PyBuffer_Release(&ends);
    return result;
}

static PyMethodDef methods[] = {
    {"many", many, METH_VARARGS,
     "many(key, data, ends, counter_blocks) -> bytes: HMAC-SHA256 of each message "
     "(optionally of bytes([j]) + message for j < counter_blocks), 32 bytes each."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hmac", NULL, -1, methods};

PyMODINIT_FUNC PyInit__hmac(void) { return PyModule_Create(&module); }
