/* kazu_run_mpi.so: the thin MPI layer of `kazu run --mpi` (dlopened). */
#include <mpi.h>
#include <stdlib.h>
#include "../run_mpi.h"

const run_mpi_ops *kazu_run_mpi_ops(void) __attribute__((visibility("default")));

static int m_init(int *rank, int *size) {
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return -1;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return 0;
}

static int m_send(int dest, int tag, const void *buf, int len) {
    return MPI_Send(buf, len, MPI_CHAR, dest, tag, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

static int m_recv(int *src, int *tag, char **buf, int *len) {
    MPI_Status st;
    if (MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st) != MPI_SUCCESS) return -1;
    int n = 0;
    MPI_Get_count(&st, MPI_CHAR, &n);
    char *b = malloc((size_t)n + 1);
    if (!b) return -1;
    if (MPI_Recv(b, n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
        MPI_SUCCESS) {
        free(b);
        return -1;
    }
    b[n] = 0;
    *src = st.MPI_SOURCE;
    *tag = st.MPI_TAG;
    *buf = b;
    *len = n;
    return 0;
}

static void m_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static void m_finalize(void) { MPI_Finalize(); }

static const char *m_library(void) {
    static char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_Get_library_version(v, &n);
    return v;
}

static const run_mpi_ops ops = {RUN_MPI_ABI, m_init, m_send, m_recv, m_abort, m_finalize, m_library};

const run_mpi_ops *kazu_run_mpi_ops(void) { return &ops; }
