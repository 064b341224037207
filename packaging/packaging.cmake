# The Debian package: `cpack` in a build directory makes mysqlclone_<version>_amd64.deb (see
# packaging/README.md). Included from the top-level CMakeLists.txt. The version is the project's
# (project(VERSION)); the changelog's newest entry and the man pages must say the same.
set(PKG_SOURCE ${PROJECT_SOURCE_DIR}/packaging)
set(PKG_BUILD ${CMAKE_BINARY_DIR}/packaging)

file(STRINGS ${PKG_SOURCE}/changelog changelog_head LIMIT_COUNT 1)
if(NOT changelog_head MATCHES "^mysqlclone \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/changelog's newest entry is not version ${PROJECT_VERSION}: ${changelog_head}")
endif()

# Every man page, compressed as Debian wants (gzip -9n: reproducible).
file(GLOB man_pages CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.[1-8])
set(package_files)
foreach(page ${man_pages})
  file(STRINGS ${page} th REGEX "^\\.TH " LIMIT_COUNT 1)
  if(th MATCHES "\"mysqlclone [0-9.]+\"" AND NOT th MATCHES "\"mysqlclone ${PROJECT_VERSION}\"")
    message(FATAL_ERROR "${page}: its .TH line names another version than ${PROJECT_VERSION}: ${th}")
  endif()
  get_filename_component(name ${page} NAME)
  string(REGEX REPLACE ".*\\.([1-8])$" "\\1" section ${name})
  add_custom_command(OUTPUT ${PKG_BUILD}/man/${name}.gz
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${PKG_BUILD}/man
                     COMMAND sh -c "gzip -9n < \"$0\" > \"$1\"" ${page} ${PKG_BUILD}/man/${name}.gz
                     DEPENDS ${page} VERBATIM)
  list(APPEND package_files ${PKG_BUILD}/man/${name}.gz)
  install(FILES ${PKG_BUILD}/man/${name}.gz DESTINATION share/man/man${section})
endforeach()

add_custom_command(OUTPUT ${PKG_BUILD}/changelog.gz
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${PKG_BUILD}
                   COMMAND sh -c "gzip -9n < \"$0\" > \"$1\"" ${PKG_SOURCE}/changelog ${PKG_BUILD}/changelog.gz
                   DEPENDS ${PKG_SOURCE}/changelog VERBATIM)
# The completion script, from the binary's own command line definitions.
add_custom_command(OUTPUT ${PKG_BUILD}/mysqlclone.bash
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${PKG_BUILD}
                   COMMAND sh -c "\"$0\" completion bash > \"$1\"" $<TARGET_FILE:mysqlclone> ${PKG_BUILD}/mysqlclone.bash
                   DEPENDS mysqlclone VERBATIM)
add_custom_target(package_files ALL DEPENDS ${package_files} ${PKG_BUILD}/changelog.gz ${PKG_BUILD}/mysqlclone.bash)

install(FILES ${PKG_BUILD}/mysqlclone.bash DESTINATION share/bash-completion/completions RENAME mysqlclone)
install(FILES ${PKG_SOURCE}/copyright ${PKG_BUILD}/changelog.gz DESTINATION share/doc/mysqlclone)
# Absolute: where Debian keeps them whatever the prefix.
install(FILES ${PKG_SOURCE}/mysqlclone.cnf DESTINATION /etc/mysqlclone PERMISSIONS OWNER_READ OWNER_WRITE)
install(FILES ${PKG_SOURCE}/systemd/mysqlclone-backup@.service ${PKG_SOURCE}/systemd/mysqlclone-backup@.timer
        DESTINATION /lib/systemd/system)
file(WRITE ${PKG_BUILD}/conffiles "/etc/mysqlclone/mysqlclone.cnf\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mysqlclone)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "mysqlclone maintainers <maintainers@users.noreply.r-seed-f0359af6.example>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PKG_BUILD}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# CPack indents every line after the first by one space.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "hot physical copies of running MySQL and MariaDB servers
mysqlclone takes a hot, physical, consistent copy of a running MySQL or
MariaDB server, on the same host (local) or over the MySQL Clone protocol
(remote), into a data directory that a stock server of the same version
starts on directly; verify checks every page of a datadir or a backup.
.
Daily backups described by an option file run from
mysqlclone-backup@.timer, with their outcome in Prometheus text format.")
include(CPack)
