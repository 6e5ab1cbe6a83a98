{
  "targets": [
    {
      "target_name": "tiller_blas",
      "sources": ["blas.c"],
      "cflags": ["-O2", "-std=c11"],
      "libraries": ["-ldl"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
