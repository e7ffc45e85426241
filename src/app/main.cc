#include "app/cli.h"

int main(int argc, char** argv) {
  return rmqc::app::run_cli(argc, argv);
}
