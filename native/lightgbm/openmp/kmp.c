/*
 * A small OpenMP runtime for LightGBM compiled to WebAssembly with Emscripten pthreads.
 *
 * clang -fopenmp turns `#pragma omp parallel for` into calls of libomp's __kmpc_* functions;
 * Emscripten 3.1.6 ships no OpenMP runtime, so this file provides the ones LightGBM uses:
 * a persistent team of worker pthreads (started once by podtrain_omp_start from JavaScript,
 * woken per parallel region through wasm atomics), static and dynamic loop schedules, team
 * barriers, reductions and critical sections. Nested parallel regions run serialized.
 *
 * Determinism: schedule(static) splits iterations exactly as GCC's libgomp does (the runtime
 * of Python's lightgbm wheels on Linux): the first trip%n threads get one extra iteration.
 * schedule(static, c) deals chunks of c round robin. So every thread sees the same block of
 * rows as native, and per-thread histograms are summed in the same order. Dynamic and guided
 * loops (iterations independent of each other in LightGBM) also get the static split, which
 * needs no shared state. Reductions combine in thread-id order.
 */
#include <emscripten/threading.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "omp.h"

#define MAX_TEAM 256
#define MAX_ARGS 32
/* Loads of a futex word before sleeping on it (a few hundred microseconds). LightGBM runs tens
 * of thousands of short parallel regions per training with short serial gaps between them; a
 * worker that slept in every gap cost ~15 us per region to wake (measured: 15 us with 4000
 * loads, 0.3 us with 200000). libgomp spins similarly (GOMP_SPINCOUNT, 300000 by default). */
#ifndef SPIN_LOADS
#define SPIN_LOADS 200000
#endif

typedef int32_t kmp_int32;
typedef uint32_t kmp_uint32;
typedef int64_t kmp_int64;
typedef uint64_t kmp_uint64;
typedef struct ident ident_t;
typedef kmp_int32 kmp_critical_name[8];
typedef void (*kmpc_micro)(kmp_int32 *global_tid, kmp_int32 *bound_tid, ...);

enum {
  SCHEDULE_STATIC_CHUNKED = 33,
  SCHEDULE_STATIC = 34,
  SCHEDULE_ORDERED_OFFSET = 32, /* kmp_ord_* = kmp_sch_* + 32 */
  SCHEDULE_NOMERGE_OFFSET = 128,
  SCHEDULE_MODIFIER_MASK = (1 << 29) | (1 << 30) | (1 << 31),
};

/* One cache line per worker so that waking one does not disturb the others' lines. */
struct worker_slot {
  _Atomic uint32_t go;
  char padding[60];
};

struct region {
  kmpc_micro function;
  int argc;
  void *args[MAX_ARGS];
  int size;
};

static int worker_count;          /* pthreads started; a team has at most worker_count + 1 */
static int default_team_size = 1; /* nthreads-var: omp_set_num_threads */
static struct worker_slot slots[MAX_TEAM];
static struct region region;
static _Atomic int32_t region_pending; /* workers of the current region not yet done */
static _Atomic int32_t barrier_arrived;
static _Atomic uint32_t barrier_generation;
static void *reduce_data[MAX_TEAM];

static _Thread_local int thread_num;     /* omp_get_thread_num */
static _Thread_local int team_size = 1;  /* omp_get_num_threads */
static _Thread_local int parallel_level; /* > 0 inside a region: nested ones run serialized */
static _Thread_local int pushed_team_size;
static _Thread_local int is_worker;
static _Thread_local int loop_lower, loop_upper, loop_stride, loop_pending; /* dispatch, 32-bit */
static _Thread_local int64_t loop_lower8, loop_upper8, loop_stride8;
static _Thread_local int loop_pending8;

/* Waits until *word != value. The main thread wakes every millisecond to run calls that
 * workers proxy to it (Emscripten routes some system calls through the main thread), which a
 * plain wait would deadlock. */
static void wait_while_equal(_Atomic uint32_t *word, uint32_t value) {
  for (int i = 0; i < SPIN_LOADS; ++i) {
    if (atomic_load_explicit(word, memory_order_acquire) != value) return;
  }
  double timeout = is_worker ? INFINITY : 1.0;
  while (atomic_load_explicit(word, memory_order_acquire) == value) {
    emscripten_futex_wait((void *)word, value, timeout);
  }
}

static void wake_all(_Atomic uint32_t *word) { emscripten_futex_wake((void *)word, INT_MAX); }

static void team_barrier(void) {
  if (team_size <= 1) return;
  uint32_t generation = atomic_load(&barrier_generation);
  if (atomic_fetch_add(&barrier_arrived, 1) == team_size - 1) {
    atomic_store(&barrier_arrived, 0);
    atomic_fetch_add(&barrier_generation, 1);
    wake_all(&barrier_generation);
  } else {
    wait_while_equal(&barrier_generation, generation);
  }
}

static void invoke(const struct region *r, kmp_int32 tid) {
  kmp_int32 global_tid = tid, bound_tid = tid;
  kmp_int32 *g = &global_tid, *b = &bound_tid;
  void *f = (void *)r->function;
  void *const *a = r->args;
  /* The outlined function takes exactly argc pointers after the two ids and wasm's
   * call_indirect checks signatures, so each arity needs its own cast. */
  switch (r->argc) {
    case 0: ((void (*)(kmp_int32 *, kmp_int32 *))f)(g, b); break;
    case 1: ((void (*)(kmp_int32 *, kmp_int32 *, void *))f)(g, b, a[0]); break;
    case 2: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *))f)(g, b, a[0], a[1]); break;
    case 3: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *))f)(g, b, a[0], a[1], a[2]); break;
    case 4: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3]); break;
    case 5: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4]); break;
    case 6: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5]); break;
    case 7: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6]); break;
    case 8: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
    case 9: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]); break;
    case 10: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]); break;
    case 11: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]); break;
    case 12: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]); break;
    case 13: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12]); break;
    case 14: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13]); break;
    case 15: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14]); break;
    case 16: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]); break;
    case 17: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16]); break;
    case 18: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17]); break;
    case 19: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18]); break;
    case 20: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19]); break;
    case 21: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20]); break;
    case 22: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21]); break;
    case 23: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22]); break;
    case 24: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23]); break;
    case 25: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24]); break;
    case 26: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25]); break;
    case 27: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26]); break;
    case 28: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27]); break;
    case 29: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28]); break;
    case 30: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28], a[29]); break;
    case 31: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28], a[29], a[30]); break;
    case 32: ((void (*)(kmp_int32 *, kmp_int32 *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *))f)(g, b, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28], a[29], a[30], a[31]); break;
    default: abort(); /* __kmpc_fork_call refuses more than MAX_ARGS */
  }
}

/* ---- the team ---------------------------------------------------------------------------- */

static void run_as_member(const struct region *r, int tid, int size) {
  int saved_num = thread_num, saved_size = team_size;
  thread_num = tid;
  team_size = size;
  parallel_level += 1;
  invoke(r, tid);
  parallel_level -= 1;
  thread_num = saved_num;
  team_size = saved_size;
}

static void *worker_main(void *argument) {
  int id = (int)(intptr_t)argument;
  is_worker = 1;
  uint32_t seen = 0;
  for (;;) {
    wait_while_equal(&slots[id].go, seen);
    seen = atomic_load_explicit(&slots[id].go, memory_order_acquire);
    run_as_member(&region, id, region.size);
    if (atomic_fetch_sub_explicit(&region_pending, 1, memory_order_acq_rel) == 1) {
      emscripten_futex_wake((void *)&region_pending, 1);
    }
  }
  return NULL;
}

/*
 * Starts `workers` pthreads (called once from JavaScript right after instantiation, while
 * Emscripten's pre-loaded worker pool is idle, so pthread_create never waits for a new Worker).
 * Returns the number running.
 */
int podtrain_omp_start(int workers) {
  if (workers > MAX_TEAM - 1) workers = MAX_TEAM - 1;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, 4 << 20);
  while (worker_count < workers) {
    pthread_t thread;
    if (pthread_create(&thread, &attributes, worker_main, (void *)(intptr_t)(worker_count + 1)) != 0) break;
    pthread_detach(thread);
    worker_count += 1;
  }
  pthread_attr_destroy(&attributes);
  default_team_size = worker_count + 1;
  return worker_count;
}

kmp_int32 __kmpc_global_thread_num(ident_t *loc) {
  (void)loc;
  return is_worker ? thread_num : 0;
}

void __kmpc_push_num_threads(ident_t *loc, kmp_int32 global_tid, kmp_int32 num_threads) {
  (void)loc; (void)global_tid;
  pushed_team_size = num_threads;
}

void __kmpc_fork_call(ident_t *loc, kmp_int32 argc, kmpc_micro function, ...) {
  (void)loc;
  if (argc > MAX_ARGS) {
    fprintf(stderr, "podtrain OpenMP runtime: parallel region with %d arguments (at most %d)\n", argc, MAX_ARGS);
    abort();
  }
  struct region local = {.function = function, .argc = argc, .size = 1};
  va_list list;
  va_start(list, function);
  for (int i = 0; i < argc; ++i) local.args[i] = va_arg(list, void *);
  va_end(list);

  int requested = pushed_team_size > 0 ? pushed_team_size : default_team_size;
  pushed_team_size = 0;
  int size = requested < worker_count + 1 ? requested : worker_count + 1;
  if (size < 1 || parallel_level > 0 || is_worker) size = 1;
  if (size == 1) {
    run_as_member(&local, 0, 1);
    return;
  }
  local.size = size;
  region = local;
  atomic_store(&barrier_arrived, 0);
  atomic_store_explicit(&region_pending, size - 1, memory_order_release);
  for (int id = 1; id < size; ++id) {
    atomic_fetch_add_explicit(&slots[id].go, 1, memory_order_acq_rel);
    emscripten_futex_wake((void *)&slots[id].go, 1);
  }
  run_as_member(&region, 0, size);
  for (;;) {
    int32_t pending = atomic_load_explicit(&region_pending, memory_order_acquire);
    if (pending == 0) break;
    wait_while_equal((_Atomic uint32_t *)&region_pending, (uint32_t)pending);
  }
}

/* An `if(false)` region: the encountering thread runs it as a team of one. */
#define MAX_SERIALIZED_DEPTH 16
static _Thread_local int serialized_depth;
static _Thread_local int serialized_saved[MAX_SERIALIZED_DEPTH][2];

void __kmpc_serialized_parallel(ident_t *loc, kmp_int32 global_tid) {
  (void)loc; (void)global_tid;
  if (serialized_depth < MAX_SERIALIZED_DEPTH) {
    serialized_saved[serialized_depth][0] = thread_num;
    serialized_saved[serialized_depth][1] = team_size;
  }
  serialized_depth += 1;
  parallel_level += 1;
  pushed_team_size = 0;
  thread_num = 0;
  team_size = 1;
}

void __kmpc_end_serialized_parallel(ident_t *loc, kmp_int32 global_tid) {
  (void)loc; (void)global_tid;
  parallel_level -= 1;
  serialized_depth -= 1;
  if (serialized_depth < MAX_SERIALIZED_DEPTH) {
    thread_num = serialized_saved[serialized_depth][0];
    team_size = serialized_saved[serialized_depth][1];
  }
}

/* ---- loop schedules ------------------------------------------------------------------------ */

/*
 * schedule(static): libgomp's split (see the top of this file). schedule(static, chunk): chunks
 * of `chunk` dealt round robin; the caller steps by *stride. T is the iteration type, U its
 * unsigned twin, S the signed type of the increment and stride.
 */
#define STATIC_INIT(NAME, T, U, S)                                                            \
  void NAME(ident_t *loc, kmp_int32 global_tid, kmp_int32 schedule, kmp_int32 *last,         \
            T *lower, T *upper, S *stride, S increment, S chunk) {                            \
    (void)loc; (void)global_tid;                                                              \
    int nth = team_size, tid = thread_num;                                                    \
    U trip;                                                                                   \
    if (increment > 0) trip = (U)(*upper - *lower) / (U)increment + 1;                        \
    else trip = (U)(*lower - *upper) / (U)(-increment) + 1;                                   \
    if ((increment > 0 && *upper < *lower) || (increment < 0 && *upper > *lower)) trip = 0;   \
    int base = (schedule & ~SCHEDULE_MODIFIER_MASK);                                         \
    if (base > SCHEDULE_NOMERGE_OFFSET) base -= SCHEDULE_NOMERGE_OFFSET;                      \
    if (nth <= 1 || trip == 0) {                                                              \
      if (last) *last = trip > 0;                                                             \
      *stride = trip > 0 ? (S)trip * increment : increment;                                   \
      if (trip == 0) *stride = increment;                                                     \
      return;                                                                                 \
    }                                                                                         \
    if (base == SCHEDULE_STATIC_CHUNKED) {                                                    \
      if (chunk < 1) chunk = 1;                                                               \
      S span = chunk * increment;                                                             \
      *stride = span * nth;                                                                   \
      *lower = *lower + span * tid;                                                           \
      *upper = *lower + span - increment;                                                     \
      if (last) *last = (tid == (int)(((trip - 1) / (U)chunk) % (U)nth));                     \
      return;                                                                                 \
    }                                                                                         \
    U small = trip / (U)nth, extras = trip % (U)nth;                                          \
    if (small == 0) {                                                                         \
      /* Fewer iterations than threads: one each for the first `trip` threads. */            \
      if ((U)tid < trip) { *lower = *lower + (T)(tid * increment); *upper = *lower; }         \
      else { *lower = *upper + (increment > 0 ? 1 : -1); }                                    \
      if (last) *last = ((U)tid == trip - 1);                                                 \
    } else {                                                                                  \
      U before = (U)tid * small + ((U)tid < extras ? (U)tid : extras);                        \
      U mine = small + ((U)tid < extras ? 1 : 0);                                             \
      *lower = *lower + (T)(before * (U)increment);                                           \
      *upper = *lower + (T)((mine - 1) * (U)increment);                                       \
      if (last) *last = (tid == nth - 1);                                                     \
    }                                                                                         \
    *stride = (S)trip * increment;                                                            \
  }

STATIC_INIT(__kmpc_for_static_init_4, kmp_int32, kmp_uint32, kmp_int32)
STATIC_INIT(__kmpc_for_static_init_4u, kmp_uint32, kmp_uint32, kmp_int32)
STATIC_INIT(__kmpc_for_static_init_8, kmp_int64, kmp_uint64, kmp_int64)
STATIC_INIT(__kmpc_for_static_init_8u, kmp_uint64, kmp_uint64, kmp_int64)

void __kmpc_for_static_fini(ident_t *loc, kmp_int32 global_tid) { (void)loc; (void)global_tid; }

/* schedule(dynamic/guided/runtime): each thread gets its static block in one chunk. */
#define DISPATCH(INIT, NEXT, FINI, T, S, LOWER, UPPER, STRIDE, PENDING, STATIC)              \
  void INIT(ident_t *loc, kmp_int32 global_tid, kmp_int32 schedule, T lb, T ub, S st,        \
            S chunk) {                                                                        \
    (void)schedule; (void)chunk;                                                              \
    kmp_int32 last = 0;                                                                       \
    S stride = 0;                                                                             \
    T lower = lb, upper = ub;                                                                 \
    if (st == 0) st = 1;                                                                      \
    STATIC(loc, global_tid, SCHEDULE_STATIC, &last, &lower, &upper, &stride, st, 1);          \
    LOWER = lower; UPPER = upper; STRIDE = st;                                                \
    PENDING = (st > 0) ? (lower <= upper && lower >= lb) : (lower >= upper && lower <= lb);   \
  }                                                                                           \
  int NEXT(ident_t *loc, kmp_int32 global_tid, kmp_int32 *last, T *lower, T *upper,          \
           S *stride) {                                                                       \
    (void)loc; (void)global_tid;                                                              \
    if (!PENDING) return 0;                                                                   \
    PENDING = 0;                                                                              \
    *lower = LOWER; *upper = UPPER;                                                           \
    if (stride) *stride = STRIDE;                                                             \
    if (last) *last = 0;                                                                      \
    return 1;                                                                                 \
  }                                                                                           \
  void FINI(ident_t *loc, kmp_int32 global_tid) { (void)loc; (void)global_tid; }

DISPATCH(__kmpc_dispatch_init_4, __kmpc_dispatch_next_4, __kmpc_dispatch_fini_4, kmp_int32,
         kmp_int32, loop_lower, loop_upper, loop_stride, loop_pending, __kmpc_for_static_init_4)
DISPATCH(__kmpc_dispatch_init_8, __kmpc_dispatch_next_8, __kmpc_dispatch_fini_8, kmp_int64,
         kmp_int64, loop_lower8, loop_upper8, loop_stride8, loop_pending8, __kmpc_for_static_init_8)

/* ---- synchronisation ----------------------------------------------------------------------- */

void __kmpc_barrier(ident_t *loc, kmp_int32 global_tid) {
  (void)loc; (void)global_tid;
  team_barrier();
}

void __kmpc_flush(ident_t *loc) {
  (void)loc;
  atomic_thread_fence(memory_order_seq_cst);
}

kmp_int32 __kmpc_master(ident_t *loc, kmp_int32 global_tid) {
  (void)loc; (void)global_tid;
  return thread_num == 0;
}

void __kmpc_end_master(ident_t *loc, kmp_int32 global_tid) { (void)loc; (void)global_tid; }

kmp_int32 __kmpc_single(ident_t *loc, kmp_int32 global_tid) {
  (void)loc; (void)global_tid;
  return thread_num == 0;
}

void __kmpc_end_single(ident_t *loc, kmp_int32 global_tid) { (void)loc; (void)global_tid; }

/*
 * reduction(op: vars). Every member publishes its private copy; after a barrier thread 0 folds
 * the others into its own in thread-id order (deterministic) and returns 1, so the compiler's
 * code adds the total to the shared variable; the others return 0 and wait in a second barrier
 * (released by __kmpc_end_reduce*) so that their private copies stay alive until then.
 */
static kmp_int32 reduce(void *data, void (*combine)(void *, void *)) {
  if (team_size <= 1) return 1;
  reduce_data[thread_num] = data;
  team_barrier();
  if (thread_num == 0) {
    for (int tid = 1; tid < team_size; ++tid) combine(data, reduce_data[tid]);
    return 1;
  }
  team_barrier();
  return 0;
}

kmp_int32 __kmpc_reduce_nowait(ident_t *loc, kmp_int32 global_tid, kmp_int32 num_vars, size_t reduce_size,
                               void *reduce_data_pointer, void (*reduce_func)(void *, void *),
                               kmp_critical_name *lock) {
  (void)loc; (void)global_tid; (void)num_vars; (void)reduce_size; (void)lock;
  return reduce(reduce_data_pointer, reduce_func);
}

kmp_int32 __kmpc_reduce(ident_t *loc, kmp_int32 global_tid, kmp_int32 num_vars, size_t reduce_size,
                        void *reduce_data_pointer, void (*reduce_func)(void *, void *), kmp_critical_name *lock) {
  (void)loc; (void)global_tid; (void)num_vars; (void)reduce_size; (void)lock;
  return reduce(reduce_data_pointer, reduce_func);
}

void __kmpc_end_reduce_nowait(ident_t *loc, kmp_int32 global_tid, kmp_critical_name *lock) {
  (void)loc; (void)global_tid; (void)lock;
  team_barrier();
}

void __kmpc_end_reduce(ident_t *loc, kmp_int32 global_tid, kmp_critical_name *lock) {
  (void)loc; (void)global_tid; (void)lock;
  team_barrier();
}

/* `critical`: a futex mutex in the name's first word (0 free, 1 held, 2 held with waiters). */
void __kmpc_critical(ident_t *loc, kmp_int32 global_tid, kmp_critical_name *name) {
  (void)loc; (void)global_tid;
  _Atomic uint32_t *word = (_Atomic uint32_t *)&(*name)[0];
  uint32_t expected = 0;
  if (atomic_compare_exchange_strong(word, &expected, 1)) return;
  if (expected != 2) expected = atomic_exchange(word, 2);
  while (expected != 0) {
    wait_while_equal(word, 2);
    expected = atomic_exchange(word, 2);
  }
}

void __kmpc_end_critical(ident_t *loc, kmp_int32 global_tid, kmp_critical_name *name) {
  (void)loc; (void)global_tid;
  _Atomic uint32_t *word = (_Atomic uint32_t *)&(*name)[0];
  if (atomic_fetch_sub(word, 1) != 1) {
    atomic_store(word, 0);
    emscripten_futex_wake((void *)word, 1);
  }
}

/* ---- the omp_* API ------------------------------------------------------------------------- */

int omp_get_max_threads(void) { return default_team_size; }
int omp_get_num_threads(void) { return team_size; }
int omp_get_thread_num(void) { return thread_num; }
int omp_in_parallel(void) { return team_size > 1; }
int omp_get_num_procs(void) { return worker_count + 1; }

void omp_set_num_threads(int num_threads) { default_team_size = num_threads > 0 ? num_threads : 1; }

/* The lock of unnamed `critical` sections. clang emits it as a common symbol, which wasm-ld
 * does not merge, so it is defined here once. */
kmp_critical_name unnamed_critical_lock __asm__(".gomp_critical_user_.var");
/* The lock clang passes to __kmpc_reduce* (unused here: reductions never take the lock path). */
kmp_critical_name reduction_lock __asm__(".gomp_critical_user_.reduction.var");
