# install.cmake - what `cmake --install` places (docs/operations.md):
#   bin/lethe; man pages lethe(1), lethe.yaml(5), lethe-policy(5) made from
#   docs/man/*.scd with scdoc; share/lethe/policies (the reference policies);
#   share/doc/lethe; bash completion; lethe.service, lethe.timer and the
#   sysusers.d entry of the lethe user; and the example /etc/lethe/lethe.yaml.
# The binary finds its reference policies relative to itself
# (LETHE_BIN_TO_DATA), so a DESTDIR or another prefix works as installed.
include(GNUInstallDirs)
set(LETHE_SYSCONFDIR "/etc" CACHE PATH "where lethe/lethe.yaml goes (lethe looks in /etc/lethe)")
file(RELATIVE_PATH LETHE_BIN_TO_DATA "/p/${CMAKE_INSTALL_BINDIR}" "/p/${CMAKE_INSTALL_DATADIR}/lethe")
target_compile_definitions(lethe PRIVATE LETHE_BIN_TO_DATA="${LETHE_BIN_TO_DATA}"
  LETHE_DATADIR="${CMAKE_INSTALL_FULL_DATADIR}/lethe")

install(TARGETS lethe RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/policies/ DESTINATION ${CMAKE_INSTALL_DATADIR}/lethe/policies
  FILES_MATCHING PATTERN "*.yaml")
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/operations.md
  ${CMAKE_SOURCE_DIR}/docs/policy-language.md ${CMAKE_SOURCE_DIR}/docs/evidence-format.md
  ${CMAKE_SOURCE_DIR}/docs/auditor-guide.md ${CMAKE_SOURCE_DIR}/docs/disposal.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Shell completions, made from the command table by the built binary
# (`lethe completion bash|zsh|fish`), so they offer every command and option.
set(comp ${CMAKE_BINARY_DIR}/completions)
add_custom_command(OUTPUT ${comp}/lethe.bash ${comp}/_lethe ${comp}/lethe.fish
  COMMAND ${CMAKE_COMMAND} -E make_directory ${comp}
  COMMAND lethe completion bash > ${comp}/lethe.bash
  COMMAND lethe completion zsh > ${comp}/_lethe
  COMMAND lethe completion fish > ${comp}/lethe.fish
  DEPENDS lethe VERBATIM)
add_custom_target(completions ALL DEPENDS ${comp}/lethe.bash ${comp}/_lethe ${comp}/lethe.fish)
install(FILES ${comp}/lethe.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME lethe)
install(FILES ${comp}/_lethe DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${comp}/lethe.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
# The configuration: lethe.yaml.example always, lethe.yaml only where there is
# none yet, so a reinstall never overwrites the operator's edits.
install(FILES ${CMAKE_SOURCE_DIR}/dist/lethe.yaml DESTINATION ${LETHE_SYSCONFDIR}/lethe
  RENAME lethe.yaml.example)
install(CODE "
  set(cfg \"\$ENV{DESTDIR}${LETHE_SYSCONFDIR}/lethe/lethe.yaml\")
  if(EXISTS \"\${cfg}\")
    message(STATUS \"Kept: \${cfg} (the new example is lethe.yaml.example beside it)\")
  else()
    file(INSTALL \"${CMAKE_SOURCE_DIR}/dist/lethe.yaml\" DESTINATION  # prepends DESTDIR itself
         \"${LETHE_SYSCONFDIR}/lethe\")
  endif()
")
install(FILES ${CMAKE_SOURCE_DIR}/dist/lethe.sysusers DESTINATION lib/sysusers.d RENAME lethe.conf)

# The unit names the binary by its installed path, known only at install time
# (cmake --install --prefix), so it is written then.
install(CODE "
  set(LETHE_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  configure_file(\"${CMAKE_SOURCE_DIR}/dist/lethe.service.in\"
                 \"${CMAKE_BINARY_DIR}/dist/lethe.service\" @ONLY)
")
install(FILES ${CMAKE_BINARY_DIR}/dist/lethe.service ${CMAKE_SOURCE_DIR}/dist/lethe.timer
  DESTINATION lib/systemd/system)

# Man pages: scdoc (Debian package scdoc, in scripts/deps).
find_program(SCDOC scdoc)
if(SCDOC)
  set(LETHE_MAN_PAGES lethe.1 lethe.yaml.5 lethe-policy.5)
  set(man_outputs)
  foreach(page ${LETHE_MAN_PAGES})
    string(REGEX MATCH "[0-9]$" section ${page})
    add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${SCDOC} < ${CMAKE_SOURCE_DIR}/docs/man/${page}.scd > ${CMAKE_BINARY_DIR}/man/${page}
      DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/${page}.scd VERBATIM)
    list(APPEND man_outputs ${CMAKE_BINARY_DIR}/man/${page})
    install(FILES ${CMAKE_BINARY_DIR}/man/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${man_outputs})
else()
  message(WARNING "scdoc not found: no man pages (bash scripts/deps installs it)")
endif()
