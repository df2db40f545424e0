/* Build information for run directories: the git commit, passed by CMake as DSC_GIT_COMMIT
 * (`git rev-parse --short HEAD` at configure time; "unknown" outside a git checkout). */
#include "descent/train.h"

#ifndef DSC_GIT_COMMIT
#define DSC_GIT_COMMIT "unknown"
#endif

const char *dsc_git_commit(void) { return DSC_GIT_COMMIT; }
