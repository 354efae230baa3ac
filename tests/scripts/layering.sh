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
# Inside the engine (engine/CMakeLists.txt): format <- tokenizer <- model <- kv <- cpu / cuda <- the root (the
# Backend interface, Engine, scheduler). Backends include from the root only engine/backend.h.
root_but_backend() { grep -rnE "^\s*#\s*include\s*\"engine/[a-z_]+\.h\"" $1 --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh' 2>/dev/null | grep -v '"engine/backend.h"'; }
bad engine/format    'engine/(tokenizer|model|kv|cpu|cuda)/|engine/[a-z_]+\.h'
bad engine/tokenizer 'engine/(model|kv|cpu|cuda)/|engine/[a-z_]+\.h'
bad engine/model     'engine/(kv|cpu|cuda)/|engine/[a-z_]+\.h'
bad engine/kv        'engine/(cpu|cuda)/|engine/[a-z_]+\.h'
bad engine/cpu       'engine/cuda/'
bad engine/cuda      'engine/cpu/'
for d in engine/cpu engine/cuda; do
  hits=$(root_but_backend $d)
  if [ -n "$hits" ]; then echo "layering violation in $d (a backend includes only engine/backend.h from the root):"; echo "$hits"; fails=$((fails+1)); fi
done
echo "layering: $fails failed"
[ $fails -eq 0 ]
