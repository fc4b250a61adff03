// Peak VDPBF16PS throughput of this CPU: the ceiling for any bf16 GEMM (ours, oneDNN's) here.
// 16 independent zmm accumulators per thread, operands in registers, no memory traffic.
// Each VDPBF16PS on zmm does 16 lanes x 2 bf16 products, i.e. 64 FLOP.
//
//   gcc -O2 -pthread Tests/Benchmarks/peak_bf16.c -o /tmp/peak_bf16 && /tmp/peak_bf16 [THREADS] [SECONDS]
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 16

static volatile float seed = 1e-3f;

__attribute__((target("avx512f,avx512bf16"))) static float run(long iters) {
    __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80 ^ (int)(seed * 0));  // bf16 pair (1, 1)
    __m512bh b = (__m512bh)_mm512_cvtne2ps_pbh(_mm512_set1_ps(seed), _mm512_set1_ps(seed));
    __m512 acc[CHAINS];
    for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_set1_ps((float)j);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 16
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
    }
    __m512 s = acc[0];
    for (int j = 1; j < CHAINS; j++) s = _mm512_add_ps(s, acc[j]);
    return _mm512_reduce_add_ps(s);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct { long iters; double seconds; float sink; } job;

static void *worker(void *p) {
    job *j = p;
    double t0 = now();
    j->sink = run(j->iters);
    j->seconds = now() - t0;
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    double want = argc > 2 ? atof(argv[2]) : 2.0;
    if (threads < 1 || threads > 256 || want <= 0) {
        fprintf(stderr, "usage: peak_bf16 [THREADS 1-256] [SECONDS > 0]\n");
        return 2;
    }
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512bf16")) {
        fprintf(stderr, "this CPU has no AVX512-BF16\n");
        return 1;
    }
    long iters = 1 << 20;  // calibrate on one thread
    for (;;) {
        double t0 = now();
        volatile float s = run(iters);
        (void)s;
        double dt = now() - t0;
        if (dt > 0.2) { iters = (long)(iters * want / dt); break; }
        iters *= 4;
    }
    job jobs[256];
    pthread_t tid[256];
    for (int t = 0; t < threads; t++) { jobs[t].iters = iters; pthread_create(&tid[t], NULL, worker, &jobs[t]); }
    double worst = 0;
    float sink = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        if (jobs[t].seconds > worst) worst = jobs[t].seconds;
        sink += jobs[t].sink;
    }
    double flop = (double)iters * CHAINS * 64 * threads;
    printf("{\"threads\": %d, \"seconds\": %.3f, \"gflops\": %.1f, \"per_thread_gflops\": %.1f, \"sink\": %g}\n",
           threads, worst, flop / worst / 1e9, flop / worst / 1e9 / threads, sink);
    return 0;
}
