/* tests/bin/vhdtool.c -- runs the offline VHD tools (`vsx vhd ...`) directly,
 * so the disk tests do not depend on the rest of vsx being built. */
#include "disk/disk.h"

int main(int argc, char **argv)
{
    return vhd_tool_main(argc - 1, argv + 1);
}
