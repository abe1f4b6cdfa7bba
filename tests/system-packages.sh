#!/usr/bin/env bash
# The system programs the tests drive for real, installed from Debian's packages when missing (as root, or through
# sudo): Chromium and its WebDriver (the generated demo app in a real browser; Google Chrome with its driver, as on
# GitHub's Ubuntu runners, does as well), SLURM's daemons and clients with munge (the single-node cluster the launch
# tests start), and shellcheck (every rendered shell script). `make test` runs this first.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
packages=()
if ! have chromedriver || ! { have chromium || have google-chrome; }; then packages+=(chromium chromium-driver); fi
for program in slurmctld slurmd sbatch munged; do
  if ! have "$program"; then packages+=(slurmctld slurmd slurm-client munge); break; fi
done
have shellcheck || packages+=(shellcheck)
[ ${#packages[@]} -gt 0 ] || exit 0

if ! command -v apt-get >/dev/null; then
  echo "error: the tests need these programs, from packages named like Debian's: ${packages[*]}; install them first" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
echo "==> installing the system packages the tests use: ${packages[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
