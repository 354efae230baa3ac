#!/usr/bin/env bash
# DESIGN.md's layering, checked on the sources: engine knows no books (no storage/memory/studio/ui, no SQLite,
# no ImGui); storage knows no models; only ui includes ImGui/GLFW/OpenGL.
set -u
SRC=$2
cd "$SRC"
fails=0
bad() { local dir=$1 pat=$2; local hits; hits=$(grep -rnE "^\s*#\s*include\s*[<\"]($pat)" $dir --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh' 2>/dev/null);
  if [ -n "$hits" ]; then echo "layering violation in $dir:"; echo "$hits"; fails=$((fails+1)); fi; }
bad engine  'storage/|memory/|studio/|ui/|sqlite3|imgui|GLFW|backends/'
bad storage 'memory/|studio/|ui/|imgui|GLFW|backends/'
bad storage 'engine/[^b]'
bad memory  'studio/|ui/|imgui|GLFW|backends/'
bad studio  'ui/|imgui|GLFW|backends/'
echo "layering: $fails failed"
[ $fails -eq 0 ]
