// Rate of the packed bf16 GEMM (Sources/_CGemm, the kernel `--precision bf16` uses) at the
// LLaVA-1.5-7B prefill shapes (626 prompt rows; 577 vision rows), rows split over THREADS threads
// as FastGEMM.multiplyParallel does; best of 5 per shape; both K blocks of the AVX512-BF16 kernel.
//
//   clang -O2 -ISources/_CGemm/include -ISources/_CGemm Tests/Benchmarks/gemm_bench.c \
//       Sources/_CGemm/*.c -lpthread -lm -o /tmp/gemm_bench && /tmp/gemm_bench [THREADS]
//
// Compare with Tests/Benchmarks/peak_bf16.c (the CPU's VDPBF16PS ceiling).
#include "cgemm.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
typedef struct {int M,N,K; const float*A; void*P; float*C; int r0,r1;} job;
static void* w(void*p){job*j=p; int rc=cgemm_gemm_bf16_packed(j->r1-j->r0,j->N,j->K,j->A+(size_t)j->r0*j->K,j->K,j->P,j->C+(size_t)j->r0*j->N,j->N,NULL,0,cgemm_panel_count(j->N)); if(rc) printf("rc %d\n",rc); return NULL;}
int main(int argc,char**argv){
  int T=argc>1?atoi(argv[1]):2;
  if(T<1||T>8){fprintf(stderr,"usage: gemm_bench [THREADS 1-8]\n");return 2;}
  printf("kernel %d\n",cgemm_best_kernel());
  int kbs[2]={192,512};
  for(int kbi=0;kbi<(cgemm_best_kernel()==CGEMM_KERNEL_AVX512BF16?2:1);kbi++){
  if(cgemm_best_kernel()==CGEMM_KERNEL_AVX512BF16){cgemm_set_k_block(kbs[kbi]);printf("K block %d pairs\n",cgemm_k_block());}
  int shapes[][3]={{626,4096,4096},{626,11008,4096},{626,4096,11008},{577,1024,1024},{577,4096,1024},{577,1024,4096}};
  double tf=0,tt=0;
  for(int s=0;s<6;s++){
    int M=shapes[s][0],N=shapes[s][1],K=shapes[s][2];
    float*A=malloc(sizeof(float)*M*K); float*C=malloc(sizeof(float)*M*N); uint16_t*W=malloc(2*(size_t)N*K);
    for(size_t i=0;i<(size_t)M*K;i++)A[i]=(float)((i*2654435761u)%1000)/1000.f-0.5f;
    for(size_t i=0;i<(size_t)N*K;i++)W[i]=0x3c00^(i%7);
    void*P=aligned_alloc(64,(cgemm_packed_size_bytes(N,K)+63)/64*64);
    cgemm_pack_weights_bf16(W,CGEMM_SRC_F16,N,K,P);
    double best=1e9;
    for(int rep=0;rep<5;rep++){
      pthread_t th[8]; job j[8];
      double t0=now();
      for(int t=0;t<T;t++){j[t]=(job){M,N,K,A,P,C,M*t/T,M*(t+1)/T}; pthread_create(&th[t],0,w,&j[t]);}
      for(int t=0;t<T;t++)pthread_join(th[t],0);
      double dt=now()-t0; if(dt<best)best=dt;
    }
    double fl=2.0*M*N*K; tf+=fl; tt+=best;
    printf("M%d N%d K%d: %.2f ms %.1f GFLOP/s\n",M,N,K,best*1e3,fl/best/1e9);
    free(A);free(C);free(W);free(P);
  }
  printf("total %.1f GFLOP/s\n",tf/tt/1e9);
  }
  return 0;
}
