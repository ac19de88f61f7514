/* The function table of kazu_run_mpi.so, the only part of kazu linked with
 * MPI. `kazu run --mpi` dlopens it, so no other command loads MPI. */
#ifndef KAZU_RUN_MPI_H
#define KAZU_RUN_MPI_H

#define RUN_MPI_ABI 1

typedef struct run_mpi_ops {
    int abi; /* RUN_MPI_ABI */
    /* MPI_Init; *rank and *size of MPI_COMM_WORLD. 0 or -1. */
    int (*init)(int *rank, int *size);
    /* Blocking send of len bytes with a tag. 0 or -1. */
    int (*send)(int dest, int tag, const void *buf, int len);
    /* Blocking receive from any source, any tag; *buf malloc'd, NUL-terminated. 0 or -1. */
    int (*recv)(int *src, int *tag, char **buf, int *len);
    void (*abort)(int code);
    void (*finalize)(void);
    const char *(*library)(void); /* MPI library version string */
} run_mpi_ops;

/* The module's one export. */
typedef const run_mpi_ops *(*run_mpi_entry_fn)(void);
#define RUN_MPI_ENTRY "kazu_run_mpi_ops"

#endif
