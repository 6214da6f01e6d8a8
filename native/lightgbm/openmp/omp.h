/*
 * The OpenMP API subset that LightGBM 4.6 calls, implemented by kmp.c in this folder.
 * LightGBM's `#pragma omp` loops compile (clang -fopenmp) to calls of libomp's __kmpc_*
 * entry points; kmp.c provides those on top of Emscripten pthreads.
 */
#ifndef PODTRAIN_OMP_H
#define PODTRAIN_OMP_H

#ifdef __cplusplus
extern "C" {
#endif

int omp_get_max_threads(void);
int omp_get_num_threads(void);
int omp_get_thread_num(void);
void omp_set_num_threads(int num_threads);
int omp_in_parallel(void);
int omp_get_num_procs(void);

#ifdef __cplusplus
}
#endif

#endif
