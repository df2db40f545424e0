/* descent — optimization for deep learning, in C. One include for the whole library. */
#ifndef DESCENT_H
#define DESCENT_H

#include "descent/config.h"
#include "descent/convex.h"
#include "descent/data.h"
#include "descent/error.h"
#include "descent/gradcheck.h"
#include "descent/graph.h"
#include "descent/init.h"
#include "descent/io.h"
#include "descent/loader.h"
#include "descent/nn.h"
#include "descent/optim.h"
#include "descent/ops.h"
#include "descent/rng.h"
#include "descent/runtime.h"
#include "descent/schedule.h"
#include "descent/solvers.h"
#include "descent/spec.h"
#include "descent/tensor.h"
#include "descent/train.h"
#include "descent/transform.h"

#endif
