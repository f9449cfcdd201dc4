; v86: virtual-8086 mode without VME (see v86.inc).
%include "v86.inc"
