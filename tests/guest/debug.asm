; debug: single-step, MOV SS shadow, DR0-DR2 breakpoints (see debug.inc).
%include "debug.inc"
