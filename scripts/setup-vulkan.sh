#!/usr/bin/env bash
# Makes a WebGPU adapter available for the wgpu tests on a machine without a GPU: Mesa's
# lavapipe, a software Vulkan driver (Debian package mesa-vulkan-drivers). Does nothing when
# a Vulkan driver manifest for lavapipe is already installed. Needs root or sudo for apt.
set -euo pipefail

if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  echo "setup-vulkan: lavapipe present"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q mesa-vulkan-drivers >/dev/null 2>&1; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q mesa-vulkan-drivers >/dev/null
fi
ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null
echo "setup-vulkan: installed mesa-vulkan-drivers (lavapipe)"
