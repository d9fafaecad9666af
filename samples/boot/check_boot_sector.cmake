# cmake -DFILE=boot.bin -P check_boot_sector.cmake: fails unless FILE is a boot sector,
# exactly 512 bytes ending 0x55 0xAA.
file(SIZE ${FILE} size)
if(NOT size EQUAL 512)
  message(FATAL_ERROR "${FILE}: ${size} bytes, a boot sector has 512")
endif()
file(READ ${FILE} signature OFFSET 510 LIMIT 2 HEX)
if(NOT signature STREQUAL "55aa")
  message(FATAL_ERROR "${FILE}: ends with 0x${signature}, a boot sector ends with 0x55aa")
endif()
