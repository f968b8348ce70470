/*
 * Scale-space extrema for shieldwall.signals.pairs (the landmarks of pair windows).
 *
 * octave_extrema: given the Gaussian levels of one octave (float32, all the same size),
 * the differences of neighbouring levels are the DoG planes; for every DoG plane but the
 * first and last, every point away from the border that is at least as large as its 26
 * neighbours in scale space and above `floor` (or at least as small, and below -floor) is
 * refined as Lowe does it (one quadratic step in x, y and scale, offsets clipped to half a
 * pixel or level), and kept if it is not on an edge (principal curvature ratio below
 * `edge_ratio`) and its response reaches `contrast`. Rows: x, y, level + offset, response
 * (float64), in this octave's pixels.
 *
 * The same arithmetic as web/static/protect/pairs.js: DoG values are float32 differences
 * of float32 levels (computed once per plane); the refinement is done in double.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>

#define MAX_LEVELS 16

typedef struct {
    double *items;
    size_t len; /* doubles */
    size_t cap;
    int failed;
} rows_t;

static void push_row(rows_t *rows, double x, double y, double s, double response) {
    if (rows->failed) return;
    if (rows->len + 4 > rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 1024;
        double *grown = realloc(rows->items, cap * sizeof(double));
        if (grown == NULL) {
            rows->failed = 1;
            return;
        }
        rows->items = grown;
        rows->cap = cap;
    }
    rows->items[rows->len++] = x;
    rows->items[rows->len++] = y;
    rows->items[rows->len++] = s;
    rows->items[rows->len++] = response;
}

static double clip_half(double v) { return v < -0.5 ? -0.5 : (v > 0.5 ? 0.5 : v); }

/* DoG plane `d` (level d+1 minus level d) at (y, x). */
#define DOG(d, y, x) (dog[(d)][(y) * width + (x)])

/* Whether `value` at (y, x) of plane `d` is at least as large as (sign 1) or at least as
 * small as (sign -1) all 26 neighbours: its own plane's 8 first, which reject soonest. */
static int is_extreme(const float *const *dog, int d, Py_ssize_t width, Py_ssize_t y, Py_ssize_t x,
                      float value, int sign) {
    static const int order[3] = {0, -1, 1};
    for (int k = 0; k < 3; k++) {
        const float *plane = dog[d + order[k]];
        for (Py_ssize_t dy = -1; dy <= 1; dy++) {
            const float *row = plane + (y + dy) * width + x;
            for (Py_ssize_t dx = -1; dx <= 1; dx++) {
                if (order[k] == 0 && dy == 0 && dx == 0) continue;
                if (sign > 0 ? row[dx] > value : row[dx] < value) return 0;
            }
        }
    }
    return 1;
}

static void scan(const float *const *dog, int planes, Py_ssize_t width, Py_ssize_t height,
                 double floor_, double contrast, double edge_ratio, rows_t *rows) {
    for (int d = 1; d + 1 < planes; d++) {
        for (Py_ssize_t y = 1; y + 1 < height; y++) {
            for (Py_ssize_t x = 1; x + 1 < width; x++) {
                const float value = DOG(d, y, x);
                int sign = value > floor_ ? 1 : (value < -floor_ ? -1 : 0);
                if (sign == 0 || !is_extreme(dog, d, width, y, x, value, sign)) continue;
                const double v = value;
                const double ddx = ((double)DOG(d, y, x + 1) - DOG(d, y, x - 1)) / 2.0;
                const double ddy = ((double)DOG(d, y + 1, x) - DOG(d, y - 1, x)) / 2.0;
                const double dds = ((double)DOG(d + 1, y, x) - DOG(d - 1, y, x)) / 2.0;
                const double dxx = (double)DOG(d, y, x + 1) + DOG(d, y, x - 1) - 2 * v;
                const double dyy = (double)DOG(d, y + 1, x) + DOG(d, y - 1, x) - 2 * v;
                const double dss = (double)DOG(d + 1, y, x) + DOG(d - 1, y, x) - 2 * v;
                const double dxy = ((double)DOG(d, y + 1, x + 1) - DOG(d, y + 1, x - 1) -
                                    DOG(d, y - 1, x + 1) + DOG(d, y - 1, x - 1)) / 4.0;
                const double trace = dxx + dyy, det = dxx * dyy - dxy * dxy;
                if (!(det > 0 && trace * trace * edge_ratio < (edge_ratio + 1) * (edge_ratio + 1) * det))
                    continue;
                const double ox = clip_half(dxx != 0 ? -ddx / dxx : 0.0);
                const double oy = clip_half(dyy != 0 ? -ddy / dyy : 0.0);
                const double os = clip_half(dss != 0 ? -dds / dss : 0.0);
                const double response = fabs(v + 0.5 * (ddx * ox + ddy * oy + dds * os));
                if (response >= contrast) push_row(rows, x + ox, y + oy, d + os, response);
            }
        }
    }
}

static PyObject *octave_extrema(PyObject *self, PyObject *args) {
    PyObject *seq;
    Py_ssize_t width, height;
    double floor_, contrast, edge_ratio;
    (void)self;
    if (!PyArg_ParseTuple(args, "Onnddd", &seq, &width, &height, &floor_, &contrast, &edge_ratio))
        return NULL;
    PyObject *fast = PySequence_Fast(seq, "levels must be a sequence of buffers");
    if (fast == NULL) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    if (count < 4 || count > MAX_LEVELS || width < 1 || height < 1) {
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "4-16 levels of a non-empty image");
        return NULL;
    }
    Py_buffer views[MAX_LEVELS];
    const float *levels[MAX_LEVELS];
    Py_ssize_t got = 0;
    PyObject *result = NULL;
    for (; got < count; got++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(fast, got), &views[got], PyBUF_C_CONTIGUOUS) != 0) {
            PyErr_SetString(PyExc_TypeError, "each level must be a contiguous buffer");
            goto done;
        }
        if (views[got].len != width * height * (Py_ssize_t)sizeof(float)) {
            PyBuffer_Release(&views[got]);
            PyErr_SetString(PyExc_ValueError, "each level must be width x height float32");
            goto done;
        }
        levels[got] = (const float *)views[got].buf;
    }
    rows_t rows = {NULL, 0, 0, 0};
    const Py_ssize_t area = width * height;
    float *planes = malloc((size_t)((count - 1) * area) * sizeof(float));
    if (planes == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const float *dog[MAX_LEVELS];
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d + 1 < count; d++) {
        float *plane = planes + d * area;
        for (Py_ssize_t i = 0; i < area; i++) plane[i] = levels[d + 1][i] - levels[d][i];
        dog[d] = plane;
    }
    scan(dog, (int)count - 1, width, height, floor_, contrast, edge_ratio, &rows);
    Py_END_ALLOW_THREADS
    free(planes);
    if (rows.failed) {
        free(rows.items);
        PyErr_NoMemory();
        goto done;
    }
    result = PyBytes_FromStringAndSize((const char *)rows.items, (Py_ssize_t)(rows.len * sizeof(double)));
    free(rows.items);
done:
    for (Py_ssize_t i = 0; i < got; i++) PyBuffer_Release(&views[i]);
    Py_DECREF(fast);
    return result;
}

static PyMethodDef methods[] = {
    {"octave_extrema", octave_extrema, METH_VARARGS,
     "Refined DoG extrema of one octave's Gaussian levels: float64 rows x, y, level, response."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_dogscan", "Scale-space extrema of an octave.", -1, methods,
};

PyMODINIT_FUNC PyInit__dogscan(void) { return PyModule_Create(&module); }
