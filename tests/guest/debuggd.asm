; debuggd: DR7.GD general detect (see debug.inc).
%define GD
%include "debug.inc"
