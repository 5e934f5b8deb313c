// vpcctl: private layer-2 networks (VPCs) across FreeBSD and Linux hosts.
#include "commands.h"

int main(int argc, char** argv) { return vpcctl::cli::Main(argc, argv, nullptr); }
