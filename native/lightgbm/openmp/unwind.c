/*
 * libunwind's WebAssembly part (the few _Unwind_* functions that -fwasm-exceptions code calls),
 * replacing Emscripten 3.1.6's copy, which is wrong in a pthreads build.
 *
 * The landing pads that clang 14 generates store the frame's landing-pad index and LSDA in the
 * global __wasm_lpad_context, call _Unwind_CallPersonality, and read back the selector that picks
 * the catch clause. Clang 14 addresses that struct as an ordinary global, while Emscripten's
 * libunwind declares it thread_local: with -pthread the two refer to different memory, the
 * selector always reads 0 and every typed `catch` misses (catch (...) still works). LLVM made
 * both sides thread-local later; with clang 14 the struct has to be an ordinary global, and
 * because all threads then share it, unwinding is serialised: a thread takes the lock below when
 * it throws (_Unwind_RaiseException) and gives it back when a catch clause takes the exception
 * (__cxa_begin_catch, wrapped at link time with -Wl,--wrap=__cxa_begin_catch). The lock counts,
 * so a destructor that throws and catches during unwinding, or a rethrow, nests correctly.
 * LightGBM throws only on errors, so the serialisation costs nothing in normal training.
 */
#include <emscripten/threading.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unwind.h>

struct _Unwind_LandingPadContext {
  uintptr_t lpad_index; /* set by the landing pad */
  uintptr_t lsda;       /* set by the landing pad */
  uintptr_t selector;   /* set by the personality function */
};

struct _Unwind_LandingPadContext __wasm_lpad_context;

_Unwind_Reason_Code __gxx_personality_wasm0(int version, _Unwind_Action actions, uint64_t exception_class,
                                            struct _Unwind_Exception *exception, struct _Unwind_Context *context);

static _Atomic uint32_t unwind_owner; /* pthread_self() of the unwinding thread, 0 when free */
static int unwind_depth;              /* touched only by the owner */

static void unwind_lock(void) {
  uint32_t self = (uint32_t)(uintptr_t)pthread_self();
  if (atomic_load(&unwind_owner) == self) {
    unwind_depth += 1;
    return;
  }
  for (;;) {
    uint32_t expected = 0;
    if (atomic_compare_exchange_strong(&unwind_owner, &expected, self)) break;
    /* The main thread wakes every millisecond to run calls proxied to it. */
    emscripten_futex_wait((void *)&unwind_owner, expected, emscripten_is_main_runtime_thread() ? 1.0 : INFINITY);
  }
  unwind_depth = 1;
}

static void unwind_unlock(void) {
  uint32_t self = (uint32_t)(uintptr_t)pthread_self();
  if (atomic_load(&unwind_owner) != self) return;
  if (--unwind_depth > 0) return;
  atomic_store(&unwind_owner, 0);
  emscripten_futex_wake((void *)&unwind_owner, INT_MAX);
}

void *__real___cxa_begin_catch(void *exception);

void *__wrap___cxa_begin_catch(void *exception) {
  unwind_unlock();
  return __real___cxa_begin_catch(exception);
}

_Unwind_Reason_Code _Unwind_CallPersonality(void *exception_pointer) {
  struct _Unwind_Exception *exception = (struct _Unwind_Exception *)exception_pointer;
  __wasm_lpad_context.selector = 0;
  /* Wasm has no search phase: the personality runs once per frame, in the cleanup phase. */
  return __gxx_personality_wasm0(1, _UA_CLEANUP_PHASE, exception->exception_class, exception,
                                 (struct _Unwind_Context *)&__wasm_lpad_context);
}

_Unwind_Reason_Code _Unwind_RaiseException(struct _Unwind_Exception *exception) {
  unwind_lock();
  __builtin_wasm_throw(0, exception);
}

void _Unwind_DeleteException(struct _Unwind_Exception *exception) {
  if (exception->exception_cleanup != NULL) exception->exception_cleanup(_URC_FOREIGN_EXCEPTION_CAUGHT, exception);
}

/* The personality sets only the selector (register 1). */
void _Unwind_SetGR(struct _Unwind_Context *context, int index, uintptr_t value) {
  if (index == 1) ((struct _Unwind_LandingPadContext *)context)->selector = value;
}

/* The personality subtracts 1 and uses the result as a 1-based call-site index. */
uintptr_t _Unwind_GetIP(struct _Unwind_Context *context) {
  return ((struct _Unwind_LandingPadContext *)context)->lpad_index + 2;
}

void _Unwind_SetIP(struct _Unwind_Context *context, uintptr_t value) { (void)context; (void)value; }

uintptr_t _Unwind_GetLanguageSpecificData(struct _Unwind_Context *context) {
  return ((struct _Unwind_LandingPadContext *)context)->lsda;
}

uintptr_t _Unwind_GetRegionStart(struct _Unwind_Context *context) {
  (void)context;
  return 0;
}
