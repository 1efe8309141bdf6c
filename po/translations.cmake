# translations.cmake - Lethe's message catalogs (gettext, include/lethe/i18n.h):
# each po/LANG.po is checked and compiled by msgfmt (Debian package gettext,
# in scripts/deps) into the build tree's locale/LANG/LC_MESSAGES/lethe.mo, where
# the uninstalled binary finds it (enforcer/cli/cli_lang.c), and installed
# under the locale folder of the prefix.
include(GNUInstallDirs)
find_program(MSGFMT msgfmt)
if(NOT MSGFMT)
  message(FATAL_ERROR "msgfmt not found: install gettext (scripts/deps)")
endif()
file(GLOB LETHE_PO_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/po/*.po)
set(LETHE_MO_FILES)
foreach(po ${LETHE_PO_FILES})
  get_filename_component(lang ${po} NAME_WE)
  set(mo_dir ${CMAKE_BINARY_DIR}/locale/${lang}/LC_MESSAGES)
  add_custom_command(OUTPUT ${mo_dir}/lethe.mo
    COMMAND ${CMAKE_COMMAND} -E make_directory ${mo_dir}
    COMMAND ${MSGFMT} --check -o ${mo_dir}/lethe.mo ${po}
    DEPENDS ${po} VERBATIM)
  list(APPEND LETHE_MO_FILES ${mo_dir}/lethe.mo)
  install(FILES ${mo_dir}/lethe.mo DESTINATION ${CMAKE_INSTALL_LOCALEDIR}/${lang}/LC_MESSAGES)
endforeach()
add_custom_target(translations ALL DEPENDS ${LETHE_MO_FILES})
add_dependencies(lethe translations)
file(RELATIVE_PATH LETHE_BIN_TO_LOCALE "/p/${CMAKE_INSTALL_BINDIR}" "/p/${CMAKE_INSTALL_LOCALEDIR}")
target_compile_definitions(lethe PRIVATE LETHE_BUILD_LOCALEDIR="${CMAKE_BINARY_DIR}/locale"
  LETHE_BIN_TO_LOCALE="${LETHE_BIN_TO_LOCALE}" LETHE_LOCALEDIR="${CMAKE_INSTALL_FULL_LOCALEDIR}")
