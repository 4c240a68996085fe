/*
 * Position-independent code that mmu.c copies into pages of their own:
 * the EL0 routines (each ends with SVC #0, x0 = result) and a tiny
 * function for the execute-permission tests.
 */
        .text
        .balign 8
        .global user_code_start, user_code_end
        .global user_load, user_store, user_exec
user_code_start:
/* x0 = address: x0 = [x0] */
user_load:
        ldr     x0, [x0]
        svc     #0
/* x0 = address, x1 = value: [x0] = x1, x0 = 0 */
user_store:
        str     x1, [x0]
        mov     x0, #0
        svc     #0
/* x0 = address: call it */
user_exec:
        blr     x0
        svc     #0
user_code_end:

        .balign 8
        .global xcode_start, xcode_end
/* returns 0x77 */
xcode_start:
        mov     x0, #0x77
        ret
xcode_end:
