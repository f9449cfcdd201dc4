/*
 * svm/svm.h -- CPU backends: the interpreter (cpu/) and the hardware-assisted
 * fast path, chosen by `[vm] accel = auto | kvm | interp`.
 */
#ifndef VSX_SVM_SVM_H
#define VSX_SVM_SVM_H

#include "../chipset/chipset.h"

/* The interpretive core as a backend. */
extern const AccelOps accel_interp;

/* Picks the backend for `accel` (ACCEL_* from chipset/config.h).  NULL with a
 * message in err when the request cannot be met. */
const AccelOps *accel_select(int accel, const char *vm_file, VsxError *err);

#endif
