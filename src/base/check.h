// Invariant checks (STYLE.md §3.4 rule 4). Never use these on user or network input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define BATON_CHECK(cond)                                                                 \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: BATON_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

#ifdef NDEBUG
#define BATON_DCHECK(cond) \
  do {                     \
  } while (0)
#else
#define BATON_DCHECK(cond) BATON_CHECK(cond)
#endif
