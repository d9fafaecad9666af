# cmake -DFILE=firmware.bin -DSIZE=65536 -P check_rom_size.cmake: fails unless FILE has
# exactly SIZE bytes (a ROM image's size is part of where its reset vector lands).
file(SIZE ${FILE} size)
if(NOT size EQUAL ${SIZE})
  message(FATAL_ERROR "${FILE}: ${size} bytes, expected ${SIZE}")
endif()
